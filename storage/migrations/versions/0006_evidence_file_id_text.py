"""evidence file ids as text: a Zalo attachment URL can exceed 300 characters

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.alter_column("file_id", existing_type=sa.String(length=300), type_=sa.Text(), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.alter_column("file_id", existing_type=sa.Text(), type_=sa.String(length=300), existing_nullable=False)
