"""assignments: a period runs several questionnaires, each for the units it applies to; every existing period is
assigned the questionnaires it used (its self-assessment to every unit, its citizen survey to the communes)

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import context, op

import storage.models

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

LEGACY = {"self_assessment": ("all", ""), "citizen_survey": ("kind", "commune")}
"""What the bot ran before assignments, by questionnaire kind: one self-assessment for every unit, one citizen
survey for the communes (the only units the survey listed)."""


def upgrade() -> None:
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_code", sa.String(length=20), nullable=False),
        sa.Column("questionnaire_id", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=40), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["period_code"], ["periods.code"], name=op.f("fk_assignments_period_code_periods")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.UniqueConstraint(
            "period_code", "questionnaire_id", "scope", "target", name=op.f("uq_assignments_period_code")
        ),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignments_period_code"), ["period_code"], unique=False)
    _assign_what_each_period_used()


def _assign_what_each_period_used() -> None:
    """Each period gets, of each kind, the questionnaires its responses were on (a unit's draft has no respondent, a
    citizen's has one); a kind nobody answered yet gets the one the bot would have opened: among the preset files
    the deployment runs (handed in by storage.migrate as id → kind) and the versions put into use for the period,
    the first by id."""
    periods = sa.table("periods", sa.column("code", sa.String()))
    responses = sa.table(
        "responses",
        sa.column("questionnaire_id", sa.String()),
        sa.column("period_code", sa.String()),
        sa.column("respondent", sa.String()),
    )
    versions = sa.table(
        "questionnaire_versions",
        sa.column("questionnaire_id", sa.String()),
        sa.column("definition", sa.JSON()),
        sa.column("period_code", sa.String()),
    )
    assignments = sa.table(
        "assignments",
        sa.column("period_code", sa.String()),
        sa.column("questionnaire_id", sa.String()),
        sa.column("scope", sa.String()),
        sa.column("target", sa.String()),
        sa.column("created_at", storage.models.UTCDateTime(timezone=True)),
    )
    connection = op.get_bind()
    shipped: dict[str, str] = dict(context.config.attributes.get("questionnaires", {}))
    answered: dict[tuple[str, str], set[str]] = defaultdict(set)
    shared = responses.c.respondent.is_(None)
    query = sa.select(responses.c.period_code, responses.c.questionnaire_id, shared).distinct()
    for period, questionnaire, shared in connection.execute(query):
        answered[(period, "self_assessment" if shared else "citizen_survey")].add(questionnaire)
    activated: dict[str, dict[str, str]] = defaultdict(dict)
    query = sa.select(versions.c.period_code, versions.c.questionnaire_id, versions.c.definition).where(
        versions.c.period_code.is_not(None)
    )
    for period, questionnaire, definition in connection.execute(query):
        kind = definition.get("kind") if isinstance(definition, dict) else None
        if isinstance(kind, str):
            activated[period][questionnaire] = kind
    now = datetime.now(UTC)
    for (period,) in connection.execute(sa.select(periods.c.code).order_by(periods.c.code)):
        in_use = {**shipped, **activated[period]}
        for kind, (scope, target) in LEGACY.items():
            ids = sorted(answered[(period, kind)]) or sorted(q for q, k in in_use.items() if k == kind)[:1]
            for questionnaire in ids:
                connection.execute(
                    assignments.insert().values(
                        period_code=period, questionnaire_id=questionnaire, scope=scope, target=target, created_at=now
                    )
                )


def downgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignments_period_code"))
    op.drop_table("assignments")
