"""invite_failures: wrong invite codes, counted by the guessing limits across restarts

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invite_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite_failures")),
    )
    with op.batch_alter_table("invite_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invite_failures_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_invite_failures_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invite_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invite_failures_at"))
        batch_op.drop_index(batch_op.f("ix_invite_failures_actor"))
    op.drop_table("invite_failures")
