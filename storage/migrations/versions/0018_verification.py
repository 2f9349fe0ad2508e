"""the Justice Office's own scoring (thẩm định): verified points per criterion, each self-assessment's verification
(finalised, re-opened) and the officers' explanations (giải trình)

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verified_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=40), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("by_account", sa.Integer(), nullable=False),
        sa.Column("at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["by_account"], ["accounts.id"], name=op.f("fk_verified_points_by_account_accounts")),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_verified_points_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verified_points")),
        sa.UniqueConstraint("response_id", "question_id", name=op.f("uq_verified_points_response_id")),
    )
    with op.batch_alter_table("verified_points", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_verified_points_response_id"), ["response_id"], unique=False)
    op.create_table(
        "verifications",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("started_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finalised", sa.Boolean(), nullable=False),
        sa.Column("finalised_by", sa.Integer(), nullable=True),
        sa.Column("finalised_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("reopened_by", sa.Integer(), nullable=True),
        sa.Column("reopened_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reopen_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["finalised_by"], ["accounts.id"], name=op.f("fk_verifications_finalised_by_accounts")),
        sa.ForeignKeyConstraint(["reopened_by"], ["accounts.id"], name=op.f("fk_verifications_reopened_by_accounts")),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_verifications_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_verifications")),
    )
    op.create_table(
        "explanations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("by_account", sa.Integer(), nullable=False),
        sa.Column("at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("file_id", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("mime", sa.String(length=100), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("file_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["by_account"], ["accounts.id"], name=op.f("fk_explanations_by_account_accounts")),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_explanations_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_explanations")),
        sa.UniqueConstraint("response_id", "question_id", name=op.f("uq_explanations_response_id")),
    )
    with op.batch_alter_table("explanations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_explanations_response_id"), ["response_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("explanations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_explanations_response_id"))
    op.drop_table("explanations")
    op.drop_table("verifications")
    with op.batch_alter_table("verified_points", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verified_points_response_id"))
    op.drop_table("verified_points")
