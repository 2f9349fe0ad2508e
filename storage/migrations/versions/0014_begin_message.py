"""PostgreSQL: a message's first round trip, a server-side function that takes the person's lock, claims the
platform update and reads their session and the response it points at (both locked), each statement on a
snapshot taken after the lock (storage.repo.begin_message); SQLite needs none

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION pbgdpl_begin_message(
    lock_key bigint, person text, inbox_channel text, inbox_key text, at timestamptz
) RETURNS TABLE (claimed boolean, has_session boolean, session_response integer, waiting_for json, response responses)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    found_session sessions%ROWTYPE;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    claimed := true;
    IF inbox_key IS NOT NULL THEN
        INSERT INTO inbox AS i (channel, update_key, received_at, done_at) VALUES (inbox_channel, inbox_key, at, at)
        ON CONFLICT (channel, update_key) DO UPDATE SET done_at = at, payload = NULL WHERE i.done_at IS NULL;
        claimed := FOUND;
        IF NOT claimed THEN
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;
    SELECT * INTO found_session FROM sessions AS s WHERE s.actor = person FOR UPDATE;
    has_session := FOUND;
    session_response := found_session.response_id;
    waiting_for := found_session.waiting_for;
    IF found_session.response_id IS NOT NULL THEN
        SELECT * INTO response FROM responses AS r WHERE r.id = found_session.response_id FOR UPDATE;
    END IF;
    RETURN NEXT;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION pbgdpl_begin_message(bigint, text, text, text, timestamptz)")
