"""held messages are an outbox status: Zalo OA's held messages move into the outbox (status "held"), its second queue
and its own record of when a person last wrote go (the inbox has it, indexed)

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    held = sa.table(
        "zalo_oa_held_messages",
        sa.column("id", sa.Integer()),
        sa.column("user_id", sa.String()),
        sa.column("message", sa.JSON()),
        sa.column("status", sa.String()),
        sa.column("reason", sa.String()),
        sa.column("created_at", storage.models.UTCDateTime(timezone=True)),
    )
    outbox = sa.table(
        "outbox",
        sa.column("channel", sa.String()),
        sa.column("recipient", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("text", sa.Text()),
        sa.column("status", sa.String()),
        sa.column("attempts", sa.Integer()),
        sa.column("next_attempt_at", storage.models.UTCDateTime(timezone=True)),
        sa.column("last_error", sa.String()),
        sa.column("created_at", storage.models.UTCDateTime(timezone=True)),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(held).where(held.c.status == "held").order_by(held.c.id)).all()
    for row in rows:
        message = row.message if isinstance(row.message, dict) else {}
        connection.execute(
            outbox.insert().values(
                channel="zalo_oa",
                recipient=row.user_id,
                kind="reply",
                text=str(message.get("text", "")),
                status="held",
                attempts=0,
                next_attempt_at=row.created_at,
                last_error=(row.reason or "")[:300] or None,
                created_at=row.created_at,
            )
        )
    with op.batch_alter_table("zalo_oa_held_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_zalo_oa_held_messages_user_id"))
    op.drop_table("zalo_oa_held_messages")
    op.drop_table("zalo_oa_contacts")
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_person_received", ["channel", "person", "received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_person_received")
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
