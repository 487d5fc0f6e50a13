-- The ledger's posting path and its guards, in PostgreSQL so that one round trip posts a
-- transaction and even raw SQL cannot break the rules. Errors use SQLSTATE FS000 with the
-- stable error code as MESSAGE and JSON details as DETAIL (mapped in apps/ledger/services.py).
-- Only CREATE OR REPLACE FUNCTION here: a migration that changes a function re-runs this file
-- (the triggers that use them are in triggers.sql).

CREATE OR REPLACE FUNCTION ledger_fail(code text, details jsonb DEFAULT '{}'::jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'FS000', MESSAGE = code, DETAIL = details::text;
END $$;

-- The entry hash: sha256(previous hash of the shard || the entry's fields). Kept in one
-- function so posting, ledger_verify and auditors compute it the same way.
CREATE OR REPLACE FUNCTION ledger_entry_hash(
  prev bytea, txn uuid, account uuid, shard int, seq bigint, direction text, amount bigint,
  currency text, balance_after bigint, posted_at timestamptz)
RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT sha256(coalesce(prev, '\x'::bytea) || convert_to(concat_ws('|',
    txn, account, shard, seq, direction, amount, currency, balance_after,
    (extract(epoch FROM posted_at) * 1000000)::bigint), 'UTF8'))
$$;

-- Which shard of a (possibly sharded) account a posting uses: stable per salt.
CREATE OR REPLACE FUNCTION ledger_pick_shard(account uuid, salt text)
RETURNS int LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN a.shards = 1 THEN 0 ELSE abs(hashtext(salt) % a.shards) END
  FROM ledger_account a WHERE a.id = account
$$;

CREATE OR REPLACE FUNCTION ledger_emit(event_type text, payload jsonb, request_id text)
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  -- Core's writer, in the posting's transaction. PL/pgSQL, not SQL: an SQL body is checked
  -- when made, and migration 0002 makes this before core's migrations make the writer.
  RETURN jsonb_build_object('id', core_outbox_write(NULL, event_type, payload, request_id),
                            'type', event_type);
END $$;

-- Legs: [{"account", "shard" (absent: picked by the salt), "direction": "D"|"C", "amount",
--         "currency", "ceiling" (optional)}]. A ceiling caps the shard's posted credits -
--         debits after a posting that raises it (a wallet's maximum balance).
-- Pending: [{"account", "shard", "pending_debit", "pending_credit"}], changes to the amounts a
--         shard holds for holds (negative when a hold is settled or voided).
--
-- Applies both under the shard locks, taken one by one in one global order (account id,
-- shard). Checks currency, status and balance rules per shard on the result, only where this
-- operation lowers what the account can spend (a frozen wallet still receives; settling a
-- hold spends nothing new). Every lookup is by primary key: the cost does not grow with the
-- number of accounts. Returns the posted legs with their shards, in lock order.
CREATE OR REPLACE FUNCTION ledger_apply(txn uuid, legs jsonb, pending jsonb, salt text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  target record;          -- one shard: its legs in their given order and its pending sums
  bal record;             -- that shard's balance row, locked, with its account's rules
  leg jsonb;
  leg_direction text; leg_amount bigint; leg_currency text;
  debited bigint; credited bigint;   -- what this call posts to the shard
  balance_after bigint; last_seq bigint; last_hash bytea; posted_at timestamptz;
  net bigint; available bigint;
  posted jsonb := '[]'::jsonb;
  -- Entries are gathered here and written with one statement.
  e_account uuid[]; e_shard int[]; e_seq bigint[]; e_direction text[]; e_amount bigint[];
  e_currency text[]; e_balance bigint[]; e_posted_at timestamptz[]; e_hash bytea[];
BEGIN
  FOR target IN
    SELECT w.account, w.shard, min(w.ceiling) AS ceiling,
           array_agg(w.leg ORDER BY w.position) FILTER (WHERE w.leg IS NOT NULL) AS legs,
           coalesce(sum(w.pending_debit), 0) AS pending_debit,
           coalesce(sum(w.pending_credit), 0) AS pending_credit
    FROM (SELECT (x->>'account')::uuid AS account,
                 -- ledger_pick_shard() inlined: PostgreSQL 15 plans its query on every call.
                 coalesce((x->>'shard')::int,
                          (SELECT CASE WHEN ac.shards = 1 THEN 0
                                       ELSE abs(hashtext(salt) % ac.shards) END
                           FROM ledger_account ac
                           WHERE ac.id = (x->>'account')::uuid)) AS shard,
                 x AS leg, position, (x->>'ceiling')::bigint AS ceiling,
                 NULL::bigint AS pending_debit, NULL::bigint AS pending_credit
          FROM jsonb_array_elements(legs) WITH ORDINALITY AS l(x, position)
          UNION ALL
          SELECT (x->>'account')::uuid, (x->>'shard')::int, NULL, position, NULL,
                 (x->>'pending_debit')::bigint, (x->>'pending_credit')::bigint
          FROM jsonb_array_elements(pending) WITH ORDINALITY AS p(x, position)) w
    GROUP BY w.account, w.shard
    ORDER BY w.account, w.shard
  LOOP
    IF target.shard IS NULL THEN PERFORM ledger_fail('account_not_found'); END IF;
    SELECT bl.account_id AS id, bl.shard, bl.posted_debits, bl.posted_credits,
           bl.pending_debits, bl.seq, bl.head_hash,
           NULL::text AS code, NULL::text AS currency, NULL::text AS status, NULL::text AS rule
      INTO bal
      FROM ledger_balance bl
      WHERE bl.account_id = target.account AND bl.shard = target.shard
      FOR UPDATE;
    IF NOT FOUND THEN PERFORM ledger_fail('account_not_found'); END IF;
    -- Read after the lock, in a statement of its own: a join in the locking statement would
    -- keep the account as it was before the wait, and a posting queued behind a freeze or a
    -- closure would pass it (the status changes under these shard locks).
    SELECT ac.code, ac.currency, ac.status, ac.rule
      INTO bal.code, bal.currency, bal.status, bal.rule
      FROM ledger_account ac WHERE ac.id = target.account;

    debited := 0; credited := 0;
    last_seq := bal.seq; last_hash := bal.head_hash;
    balance_after := bal.posted_credits - bal.posted_debits;
    FOREACH leg IN ARRAY coalesce(target.legs, '{}') LOOP
      leg_direction := leg->>'direction';
      leg_amount := (leg->>'amount')::bigint;
      leg_currency := leg->>'currency';
      -- The legs' own rules (the deferred trigger re-checks the balance at commit).
      IF leg_direction IS NULL OR leg_direction NOT IN ('D', 'C')
         OR leg_amount IS NULL OR leg_amount <= 0 THEN
        PERFORM ledger_fail('invalid_amount', '{"reason": "amounts must be positive"}');
      END IF;
      IF leg_currency IS DISTINCT FROM bal.currency THEN
        PERFORM ledger_fail('currency_mismatch', jsonb_build_object(
          'account', bal.code, 'account_currency', bal.currency, 'currency', leg_currency));
      END IF;
      IF leg_direction = 'C' THEN
        credited := credited + leg_amount; balance_after := balance_after + leg_amount;
      ELSE
        debited := debited + leg_amount; balance_after := balance_after - leg_amount;
      END IF;
      last_seq := last_seq + 1;
      posted_at := clock_timestamp();
      -- ledger_entry_hash() inlined for speed; ledger_verify recomputes every hash with it.
      last_hash := sha256(coalesce(last_hash, '\x'::bytea) || convert_to(concat_ws('|',
        txn, target.account, target.shard, last_seq, leg_direction, leg_amount, leg_currency,
        balance_after, (extract(epoch FROM posted_at) * 1000000)::bigint), 'UTF8'));
      e_account := e_account || target.account; e_shard := e_shard || target.shard;
      e_seq := e_seq || last_seq; e_direction := e_direction || leg_direction;
      e_amount := e_amount || leg_amount; e_currency := e_currency || leg_currency;
      e_balance := e_balance || balance_after; e_posted_at := e_posted_at || posted_at;
      e_hash := e_hash || last_hash;
      posted := posted || jsonb_build_object('account_id', target.account,
        'shard', target.shard, 'direction', leg_direction, 'amount', leg_amount,
        'currency', leg_currency);
    END LOOP;

    -- The shard's status and rule, on its new state.
    net := credited - debited - target.pending_debit;
    IF bal.status = 'closed' AND (debited > 0 OR credited > 0) THEN
      PERFORM ledger_fail('account_closed', jsonb_build_object('account', bal.code));
    END IF;
    IF net < 0 AND bal.status = 'frozen' THEN
      PERFORM ledger_fail('account_frozen', jsonb_build_object('account', bal.code));
    END IF;
    IF net < 0 AND bal.rule = 'debits_must_not_exceed_credits' THEN
      available := (bal.posted_credits + credited) - (bal.posted_debits + debited)
                   - (bal.pending_debits + target.pending_debit);
      IF available < 0 THEN  -- expired holds never count, even before the sweeper runs
        SELECT available + coalesce(sum(eh.amount), 0) INTO available FROM ledger_hold eh
          WHERE eh.debit_account_id = bal.id AND eh.debit_shard = bal.shard
            AND eh.status = 'pending' AND eh.expires_at <= statement_timestamp();
        IF available < 0 THEN
          PERFORM ledger_fail('insufficient_funds', jsonb_build_object('account', bal.code,
            'available', available - net, 'requested', -net, 'currency', bal.currency));
        END IF;
      END IF;
    END IF;
    IF net > 0 AND bal.rule = 'credits_must_not_exceed_debits'
       AND (bal.posted_credits + credited) - (bal.posted_debits + debited) > 0 THEN
      PERFORM ledger_fail('balance_rule_violated', jsonb_build_object('account', bal.code));
    END IF;
    IF credited > debited
       AND (bal.posted_credits + credited) - (bal.posted_debits + debited) > target.ceiling THEN
      PERFORM ledger_fail('balance_ceiling_exceeded', jsonb_build_object('account', bal.code,
        'ceiling', target.ceiling, 'balance', bal.posted_credits - bal.posted_debits,
        'requested', credited - debited, 'currency', bal.currency));
    END IF;
    UPDATE ledger_balance bl SET posted_debits = bl.posted_debits + debited,
      posted_credits = bl.posted_credits + credited,
      pending_debits = bl.pending_debits + target.pending_debit,
      pending_credits = bl.pending_credits + target.pending_credit,
      seq = last_seq, head_hash = last_hash
    WHERE bl.account_id = bal.id AND bl.shard = bal.shard;
  END LOOP;

  IF coalesce(array_length(e_account, 1), 0) = 1 OR (e_account IS NULL AND txn IS NOT NULL) THEN
    PERFORM ledger_fail('unbalanced_transaction', '{"reason": "fewer than two entries"}');
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(e_currency, e_direction, e_amount) AS e(cur, dir, amt)
             GROUP BY e.cur HAVING sum(CASE e.dir WHEN 'D' THEN e.amt ELSE -e.amt END) <> 0) THEN
    PERFORM ledger_fail('unbalanced_transaction', '{"reason": "debits differ from credits"}');
  END IF;
  IF e_account IS NOT NULL THEN
    INSERT INTO ledger_entry (transaction_id, account_id, shard, seq, direction, amount,
                              currency, balance_after, posted_at, hash)
      SELECT txn, * FROM unnest(e_account, e_shard, e_seq, e_direction, e_amount, e_currency,
                                e_balance, e_posted_at, e_hash);
  END IF;
  RETURN posted;
END $$;


-- Legs as the previous release wrote them ({a, s, d, m, c, x}), renamed: its processes keep
-- posting between the migration and the end of their rollout. Drop with the next release.
CREATE OR REPLACE FUNCTION ledger_legs_renamed(legs jsonb)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
    'account', x->'a', 'shard', x->'s', 'direction', x->'d', 'amount', x->'m',
    'currency', x->'c', 'ceiling', x->'x')) ORDER BY position), '[]'::jsonb)
  FROM jsonb_array_elements(legs) WITH ORDINALITY AS l(x, position)
$$;

-- p: {key, kind, description, metadata, effective_at, by, reverses, request_id, legs}
CREATE OR REPLACE FUNCTION ledger_post(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE txn uuid; prior record; legs jsonb; ev jsonb; eff timestamptz;
BEGIN
  IF jsonb_typeof(p->'legs') <> 'array' OR jsonb_array_length(p->'legs') < 2 THEN
    PERFORM ledger_fail('unbalanced_transaction', '{"reason": "fewer than two entries"}');
  END IF;
  IF p->'legs'->0 ? 'a' THEN
    p := jsonb_set(p, '{legs}', ledger_legs_renamed(p->'legs'));
  END IF;
  IF p->>'reverses' IS NOT NULL THEN
    SELECT id, idempotency_key INTO prior FROM ledger_transaction
      WHERE reverses_id = (p->>'reverses')::uuid;
    IF FOUND AND prior.idempotency_key <> p->>'key' THEN
      PERFORM ledger_fail('already_reversed', jsonb_build_object('reversal_id', prior.id));
    END IF;
  END IF;
  eff := coalesce((p->>'effective_at')::timestamptz, now());
  INSERT INTO ledger_transaction (id, idempotency_key, kind, description, metadata,
                                  effective_at, created_at, created_by, reverses_id)
  VALUES (core_uuid7(), p->>'key', p->>'kind', coalesce(p->>'description', ''),
          coalesce(p->'metadata', '{}'::jsonb), eff, now(), coalesce(p->>'by', ''),
          (p->>'reverses')::uuid)
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id INTO txn;
  IF txn IS NULL THEN
    -- A retry is what was posted under the key, compared with it (legs in any order); the
    -- time it takes effect is not part of it. Only retries pay for the comparison.
    SELECT t.id, t.kind, t.description, t.metadata, t.reverses_id INTO prior
      FROM ledger_transaction t WHERE t.idempotency_key = p->>'key';
    IF (prior.kind, prior.description, prior.metadata, prior.reverses_id)
       IS DISTINCT FROM (p->>'kind', coalesce(p->>'description', ''),
                         coalesce(p->'metadata', '{}'::jsonb), (p->>'reverses')::uuid)
       OR (SELECT array_agg(leg ORDER BY leg) FROM (
             SELECT concat_ws('|', e.account_id, e.direction, e.amount, e.currency) leg
             FROM ledger_entry e WHERE e.transaction_id = prior.id) posted)
          IS DISTINCT FROM (SELECT array_agg(leg ORDER BY leg) FROM (
             SELECT concat_ws('|', (x->>'account')::uuid, x->>'direction', (x->>'amount')::bigint,
                              x->>'currency') leg
             FROM jsonb_array_elements(p->'legs') x) asked) THEN
      PERFORM ledger_fail('idempotency_key_reused', jsonb_build_object('transaction_id', prior.id));
    END IF;
    RETURN jsonb_build_object('transaction_id', prior.id, 'replayed', true, 'events', '[]'::jsonb);
  END IF;
  legs := ledger_apply(txn, p->'legs', '[]'::jsonb, p->>'key');
  ev := ledger_emit('ledger.transaction_posted', jsonb_build_object(
      'transaction_id', txn, 'kind', p->>'kind', 'legs', legs,
      'reverses', p->>'reverses', 'effective_at', eff,
      'metadata', coalesce(p->'metadata', '{}'::jsonb)), p->>'request_id');
  RETURN jsonb_build_object('transaction_id', txn, 'replayed', false,
                            'events', jsonb_build_array(ev));
END $$;

-- p: {key, debit, credit, amount, currency, expires_at, kind, description, metadata,
--     request_id}
CREATE OR REPLACE FUNCTION ledger_hold_create(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE hid uuid; prior record; ds int; cs int; ev jsonb; amt bigint := (p->>'amount')::bigint;
BEGIN
  IF amt IS NULL OR amt <= 0 THEN
    PERFORM ledger_fail('invalid_amount', '{"reason": "amounts must be positive"}');
  END IF;
  IF p->>'debit' = p->>'credit' THEN
    PERFORM ledger_fail('invalid_amount', '{"reason": "debit and credit are one account"}');
  END IF;
  IF (p->>'expires_at')::timestamptz <= statement_timestamp() THEN
    PERFORM ledger_fail('invalid_amount', '{"reason": "the expiry is in the past"}');
  END IF;
  ds := ledger_pick_shard((p->>'debit')::uuid, p->>'key');
  cs := ledger_pick_shard((p->>'credit')::uuid, p->>'key');
  IF ds IS NULL OR cs IS NULL THEN PERFORM ledger_fail('account_not_found'); END IF;
  INSERT INTO ledger_hold (id, idempotency_key, debit_account_id, debit_shard,
    credit_account_id, credit_shard, amount, currency, status, expires_at, kind, description,
    metadata, created_at)
  VALUES (core_uuid7(), p->>'key', (p->>'debit')::uuid, ds,
    (p->>'credit')::uuid, cs, amt, p->>'currency', 'pending', (p->>'expires_at')::timestamptz,
    p->>'kind', coalesce(p->>'description', ''), coalesce(p->'metadata', '{}'::jsonb), now())
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id INTO hid;
  IF hid IS NULL THEN
    SELECT * INTO prior FROM ledger_hold WHERE idempotency_key = p->>'key';
    IF (prior.debit_account_id, prior.credit_account_id, prior.amount, prior.currency,
        prior.expires_at, prior.kind, prior.description, prior.metadata)
       IS DISTINCT FROM ((p->>'debit')::uuid, (p->>'credit')::uuid, amt, p->>'currency',
        (p->>'expires_at')::timestamptz, p->>'kind', coalesce(p->>'description', ''),
        coalesce(p->'metadata', '{}'::jsonb)) THEN
      PERFORM ledger_fail('idempotency_key_reused', jsonb_build_object('hold_id', prior.id));
    END IF;
    RETURN jsonb_build_object('hold_id', prior.id, 'replayed', true, 'events', '[]'::jsonb);
  END IF;
  -- ledger_apply checks the currency of posted legs only: a hold's accounts are checked here.
  IF EXISTS (SELECT 1 FROM ledger_account WHERE id IN ((p->>'debit')::uuid, (p->>'credit')::uuid)
             AND currency <> p->>'currency') THEN
    PERFORM ledger_fail('currency_mismatch', jsonb_build_object('currency', p->>'currency'));
  END IF;
  PERFORM ledger_apply(NULL, '[]'::jsonb, jsonb_build_array(
    jsonb_build_object('account', p->>'debit', 'shard', ds, 'pending_debit', amt),
    jsonb_build_object('account', p->>'credit', 'shard', cs, 'pending_credit', amt)), p->>'key');
  ev := ledger_emit('ledger.hold_created', jsonb_build_object('hold_id', hid,
    'debit_account_id', p->>'debit', 'credit_account_id', p->>'credit', 'amount', amt,
    'currency', p->>'currency', 'expires_at', p->>'expires_at', 'kind', p->>'kind',
    'metadata', coalesce(p->'metadata', '{}'::jsonb)), p->>'request_id');
  RETURN jsonb_build_object('hold_id', hid, 'replayed', false, 'events', jsonb_build_array(ev));
END $$;

-- p: {hold, amount|null, key, by, request_id}. Lock order: hold, then shards.
CREATE OR REPLACE FUNCTION ledger_hold_post(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE h record; txn uuid; amt bigint; legs jsonb; ev1 jsonb; ev2 jsonb;
BEGIN
  SELECT * INTO h FROM ledger_hold WHERE id = (p->>'hold')::uuid FOR UPDATE;
  IF NOT FOUND THEN PERFORM ledger_fail('hold_not_found'); END IF;
  amt := coalesce((p->>'amount')::bigint, h.amount);
  IF h.status = 'posted' AND h.posted_amount = amt THEN
    RETURN jsonb_build_object('transaction_id', h.transaction_id, 'replayed', true,
                              'events', '[]'::jsonb);
  END IF;
  IF h.status <> 'pending' THEN
    PERFORM ledger_fail('hold_not_pending', jsonb_build_object('status', h.status));
  END IF;
  IF h.expires_at IS NOT NULL AND h.expires_at <= statement_timestamp() THEN
    PERFORM ledger_fail('hold_expired', jsonb_build_object('expired_at', h.expires_at));
  END IF;
  IF amt <= 0 OR amt > h.amount THEN
    PERFORM ledger_fail('invalid_amount', jsonb_build_object('hold_amount', h.amount));
  END IF;
  INSERT INTO ledger_transaction (id, idempotency_key, kind, description, metadata,
                                  effective_at, created_at, created_by)
  VALUES (core_uuid7(), p->>'key', h.kind, h.description,
          h.metadata || jsonb_build_object('hold_id', h.id), now(), now(),
          coalesce(p->>'by', ''))
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id INTO txn;
  IF txn IS NULL THEN
    PERFORM ledger_fail('idempotency_key_reused', jsonb_build_object('key', p->>'key'));
  END IF;
  legs := ledger_apply(txn,
    jsonb_build_array(
      jsonb_build_object('account', h.debit_account_id, 'shard', h.debit_shard,
                         'direction', 'D', 'amount', amt, 'currency', h.currency),
      jsonb_build_object('account', h.credit_account_id, 'shard', h.credit_shard,
                         'direction', 'C', 'amount', amt, 'currency', h.currency)),
    jsonb_build_array(
      jsonb_build_object('account', h.debit_account_id, 'shard', h.debit_shard,
                         'pending_debit', -h.amount),
      jsonb_build_object('account', h.credit_account_id, 'shard', h.credit_shard,
                         'pending_credit', -h.amount)),
    p->>'key');
  UPDATE ledger_hold SET status = 'posted', posted_amount = amt, transaction_id = txn,
                         resolved_at = now() WHERE id = h.id;
  ev1 := ledger_emit('ledger.transaction_posted', jsonb_build_object(
      'transaction_id', txn, 'kind', h.kind, 'legs', legs, 'reverses', NULL,
      'effective_at', now(), 'metadata', h.metadata || jsonb_build_object('hold_id', h.id)),
      p->>'request_id');
  ev2 := ledger_emit('ledger.hold_posted', jsonb_build_object('hold_id', h.id,
      'transaction_id', txn, 'amount', amt, 'currency', h.currency,
      'metadata', h.metadata), p->>'request_id');
  RETURN jsonb_build_object('transaction_id', txn, 'replayed', false,
                            'events', jsonb_build_array(ev1, ev2));
END $$;

-- p: {hold, expire: bool, request_id}
CREATE OR REPLACE FUNCTION ledger_hold_void(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE h record; new_status text; ev jsonb;
BEGIN
  SELECT * INTO h FROM ledger_hold WHERE id = (p->>'hold')::uuid FOR UPDATE;
  IF NOT FOUND THEN PERFORM ledger_fail('hold_not_found'); END IF;
  IF h.status IN ('voided', 'expired') THEN
    RETURN jsonb_build_object('status', h.status, 'replayed', true, 'events', '[]'::jsonb);
  END IF;
  IF h.status <> 'pending' THEN
    PERFORM ledger_fail('hold_not_pending', jsonb_build_object('status', h.status));
  END IF;
  IF coalesce((p->>'expire')::boolean, false) THEN
    IF h.expires_at IS NULL OR h.expires_at > statement_timestamp() THEN
      RETURN jsonb_build_object('status', h.status, 'replayed', true, 'events', '[]'::jsonb);
    END IF;
    new_status := 'expired';
  ELSE
    new_status := 'voided';
  END IF;
  PERFORM ledger_apply(NULL, '[]'::jsonb, jsonb_build_array(
    jsonb_build_object('account', h.debit_account_id, 'shard', h.debit_shard,
                       'pending_debit', -h.amount),
    jsonb_build_object('account', h.credit_account_id, 'shard', h.credit_shard,
                       'pending_credit', -h.amount)),
    h.idempotency_key);
  UPDATE ledger_hold SET status = new_status, resolved_at = now() WHERE id = h.id;
  ev := ledger_emit('ledger.hold_voided', jsonb_build_object('hold_id', h.id,
      'status', new_status, 'amount', h.amount, 'currency', h.currency,
      'metadata', h.metadata), p->>'request_id');
  RETURN jsonb_build_object('status', new_status, 'replayed', false,
                            'events', jsonb_build_array(ev));
END $$;

-- History is append-only: corrections are reversals, never edits.
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM ledger_fail('ledger_immutable', jsonb_build_object('operation', TG_OP,
                                                             'table', TG_TABLE_NAME));
  RETURN NULL;
END $$;

-- A hold changes once: pending -> posted | voided | expired, nothing else about it.
CREATE OR REPLACE FUNCTION ledger_hold_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' OR OLD.status <> 'pending'
     OR NEW.status NOT IN ('posted', 'voided', 'expired')
     OR (NEW.amount, NEW.debit_account_id, NEW.credit_account_id, NEW.debit_shard,
         NEW.credit_shard, NEW.currency, NEW.idempotency_key)
        IS DISTINCT FROM (OLD.amount, OLD.debit_account_id, OLD.credit_account_id,
         OLD.debit_shard, OLD.credit_shard, OLD.currency, OLD.idempotency_key) THEN
    PERFORM ledger_fail('ledger_immutable', jsonb_build_object('operation', TG_OP,
                                                               'table', TG_TABLE_NAME));
  END IF;
  RETURN NEW;
END $$;

-- Checked at COMMIT, so even raw SQL cannot commit an unbalanced transaction: two or more
-- entries, debits equal to credits in each currency.
CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE entries bigint; unbalanced boolean;
BEGIN
  SELECT coalesce(sum(n), 0), coalesce(bool_or(net <> 0), false) INTO entries, unbalanced
  FROM (SELECT count(*) n, sum(CASE direction WHEN 'D' THEN amount ELSE -amount END) net
        FROM ledger_entry WHERE transaction_id = NEW.id GROUP BY currency) per_currency;
  IF entries < 2 OR unbalanced THEN
    PERFORM ledger_fail('unbalanced_transaction', jsonb_build_object('transaction_id', NEW.id,
      'reason', CASE WHEN entries < 2 THEN 'fewer than two entries'
                     ELSE 'debits differ from credits' END));
  END IF;
  RETURN NULL;
END $$;

-- Entries join only a transaction written in the same database transaction: appending to a
-- committed one would change history (and escape the balance check above).
CREATE OR REPLACE FUNCTION ledger_entry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM ledger_transaction
                 WHERE id = NEW.transaction_id AND created_at >= now()) THEN
    PERFORM ledger_fail('ledger_immutable', jsonb_build_object('operation', 'INSERT',
      'table', 'ledger_entry', 'reason', 'the transaction is already committed'));
  END IF;
  RETURN NEW;
END $$;
