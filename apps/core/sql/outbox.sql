-- The one writer of outbox rows: apps.core.events.publish() calls it, and so does every
-- app's SQL that writes an event with the change it announces (the ledger's posting
-- functions, the wallets' transfer statement). `event_id` NULL: a new time-ordered id.
-- PL/pgSQL, not SQL: PostgreSQL 15 plans an SQL function's statement on every call, while
-- PL/pgSQL keeps the plan for the session (the posting path calls this once a posting).
CREATE OR REPLACE FUNCTION core_outbox_write(event_id uuid, event_type text, payload jsonb,
                                             request_id text)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE written uuid;
BEGIN
  INSERT INTO core_outboxevent (id, type, payload, request_id, created_at, dispatched_at,
                                attempts, next_attempt_at, last_error)
  VALUES (coalesce(event_id, core_uuid7()), event_type, payload, coalesce(request_id, ''),
          now(), NULL, 0, now(), '')
  RETURNING core_outboxevent.id INTO written;
  RETURN written;
END $$;
