"""one index for a person's responses, led by the respondent: the once-per-period check of /khaosat picked the
questionnaire's index (all its responses) on SQLite; the draft index it replaces also had to change with every answer

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_index("ix_responses_respondent_draft")
        batch_op.create_index("ix_responses_person", ["respondent", "questionnaire_id", "period_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_index("ix_responses_person")
        batch_op.create_index("ix_responses_respondent_draft", ["respondent", "status", "updated_at"], unique=False)
