"""Questionnaire versions uploaded as XLSForm, and the period each was put into use for

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "questionnaire_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("uploaded_by", sa.String(length=140), nullable=False),
        sa.Column("uploaded_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_code", sa.String(length=20), nullable=True),
        sa.Column("activated_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["period_code"], ["periods.code"], name=op.f("fk_questionnaire_versions_period_code_periods")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_versions")),
        sa.UniqueConstraint("questionnaire_id", "version", name=op.f("uq_questionnaire_versions_questionnaire_id")),
    )


def downgrade() -> None:
    op.drop_table("questionnaire_versions")
