"""Zalo Official Account: the rotating token pair, when each person last wrote, messages held outside the window

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "zalo_oa_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("expires_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("bootstrap", sa.String(length=64), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zalo_oa_tokens")),
    )
    op.create_table(
        "zalo_oa_contacts",
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("last_inbound_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("actor", name=op.f("pk_zalo_oa_contacts")),
    )
    op.create_table(
        "zalo_oa_held_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zalo_oa_held_messages")),
    )
    with op.batch_alter_table("zalo_oa_held_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_zalo_oa_held_messages_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("zalo_oa_held_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_zalo_oa_held_messages_user_id"))
    op.drop_table("zalo_oa_held_messages")
    op.drop_table("zalo_oa_contacts")
    op.drop_table("zalo_oa_tokens")
