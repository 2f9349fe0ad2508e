"""unit_names: the names units had before they were renamed, with the last day each was in use

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unit_names",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("used_until", sa.Date(), nullable=False),
        sa.Column("changed_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_code"], ["units.code"], name=op.f("fk_unit_names_unit_code_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_names")),
    )
    with op.batch_alter_table("unit_names", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_names_unit_code"), ["unit_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("unit_names", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_names_unit_code"))
    op.drop_table("unit_names")
