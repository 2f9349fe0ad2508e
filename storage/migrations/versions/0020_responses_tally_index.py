"""responses counted by unit, questionnaire, period, status and event from one covering index, in unit order (the
survey tallies of /xem, the dashboard and the exports, progress) without reading the rows and their states; it serves
what the index on the unit alone did

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        columns = ["unit_code", "questionnaire_id", "period_code", "status", "event_id"]
        batch_op.create_index("ix_responses_tally", columns, unique=False)
        batch_op.drop_index(batch_op.f("ix_responses_unit_code"))


def downgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_responses_unit_code"), ["unit_code"], unique=False)
        batch_op.drop_index("ix_responses_tally")
