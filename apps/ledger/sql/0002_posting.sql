-- The ledger's posting path and its guards, in PostgreSQL so that one round trip posts a
-- transaction and even raw SQL cannot break the rules. Errors use SQLSTATE FS000 with the
-- stable error code as MESSAGE and JSON details as DETAIL (mapped in apps/ledger/services.py).

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
RETURNS jsonb LANGUAGE sql AS $$
  -- The same outbox row apps.core.events.publish() writes, in the posting's transaction.
  INSERT INTO core_outboxevent (id, type, payload, request_id, created_at, dispatched_at,
                                attempts, next_attempt_at, last_error)
  VALUES (gen_random_uuid(), event_type, payload, coalesce(request_id, ''), now(), NULL, 0,
          now(), '')
  RETURNING jsonb_build_object('id', id, 'type', type)
$$;

-- Legs: [{"a": account, "s": shard|null, "d": "D"|"C", "m": amount, "c": currency}].
CREATE OR REPLACE FUNCTION ledger_check_legs(legs jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF jsonb_typeof(legs) <> 'array' OR jsonb_array_length(legs) < 2 THEN
    PERFORM ledger_fail('unbalanced_transaction', '{"reason": "fewer than two entries"}');
  END IF;
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(legs) x
             WHERE NOT (x->>'d' IN ('D', 'C')) OR (x->>'m')::bigint <= 0
                OR (x->>'c') !~ '^[A-Z]{3}$') THEN
    PERFORM ledger_fail('invalid_amount', '{"reason": "amounts must be positive"}');
  END IF;
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(legs) x GROUP BY x->>'c'
             HAVING sum(CASE x->>'d' WHEN 'D' THEN (x->>'m')::bigint
                                     ELSE -(x->>'m')::bigint END) <> 0) THEN
    PERFORM ledger_fail('unbalanced_transaction', '{"reason": "debits differ from credits"}');
  END IF;
END $$;

CREATE TYPE ledger_touch AS (
  a uuid, s int, pd bigint, pc bigint, qd bigint, qc bigint, ord int, d text, m bigint, c text
);

-- Apply posted legs and pending deltas ([{"a","s","qd","qc"}]) under the shard locks,
-- taken in one global order (account id, shard). Checks status, currency and balance rules
-- on the result. Returns the legs with their resolved shards.
CREATE OR REPLACE FUNCTION ledger_apply(txn uuid, legs jsonb, pending jsonb, salt text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  t ledger_touch[]; leg record; bad record; resolved jsonb := '[]'::jsonb;
  cur_a uuid; cur_s int; b_seq bigint; b_hash bytea; b_bal bigint; d_sum bigint; c_sum bigint;
  ts timestamptz; h bytea;
BEGIN
  t := ARRAY(
    SELECT ROW( (x->>'a')::uuid, coalesce((x->>'s')::int, ledger_pick_shard((x->>'a')::uuid, salt)),
           CASE x->>'d' WHEN 'D' THEN (x->>'m')::bigint ELSE 0 END,
           CASE x->>'d' WHEN 'C' THEN (x->>'m')::bigint ELSE 0 END, 0, 0, o::int,
           x->>'d', (x->>'m')::bigint, x->>'c')::ledger_touch
    FROM jsonb_array_elements(legs) WITH ORDINALITY AS j(x, o)
    UNION ALL
    SELECT ROW((x->>'a')::uuid, (x->>'s')::int, 0, 0, coalesce((x->>'qd')::bigint, 0),
           coalesce((x->>'qc')::bigint, 0), NULL, NULL, NULL, NULL)::ledger_touch
    FROM jsonb_array_elements(pending) AS x);

  IF EXISTS (SELECT 1 FROM unnest(t) u WHERE u.s IS NULL
             OR NOT EXISTS (SELECT 1 FROM ledger_balance b
                            WHERE b.account_id = u.a AND b.shard = u.s)) THEN
    PERFORM ledger_fail('account_not_found');
  END IF;
  -- The locks: every touched shard, in one global order.
  PERFORM 1 FROM ledger_balance b
    WHERE (b.account_id, b.shard) IN (SELECT u.a, u.s FROM unnest(t) u)
    ORDER BY b.account_id, b.shard FOR UPDATE;

  SELECT u.c AS leg_currency, a.currency, a.code INTO bad FROM unnest(t) u
    JOIN ledger_account a ON a.id = u.a WHERE u.c IS NOT NULL AND u.c <> a.currency LIMIT 1;
  IF FOUND THEN
    PERFORM ledger_fail('currency_mismatch', jsonb_build_object(
      'account', bad.code, 'account_currency', bad.currency, 'currency', bad.leg_currency));
  END IF;

  FOR leg IN SELECT * FROM unnest(t) u WHERE u.ord IS NOT NULL ORDER BY u.a, u.s, u.ord LOOP
    IF cur_a IS DISTINCT FROM leg.a OR cur_s IS DISTINCT FROM leg.s THEN
      IF cur_a IS NOT NULL THEN
        UPDATE ledger_balance SET posted_debits = posted_debits + d_sum,
          posted_credits = posted_credits + c_sum, seq = b_seq, head_hash = b_hash
        WHERE account_id = cur_a AND shard = cur_s;
      END IF;
      cur_a := leg.a; cur_s := leg.s; d_sum := 0; c_sum := 0;
      SELECT b.seq, b.head_hash, b.posted_credits - b.posted_debits INTO b_seq, b_hash, b_bal
        FROM ledger_balance b WHERE b.account_id = cur_a AND b.shard = cur_s;
    END IF;
    b_seq := b_seq + 1;
    b_bal := b_bal + CASE leg.d WHEN 'C' THEN leg.m ELSE -leg.m END;
    IF leg.d = 'C' THEN c_sum := c_sum + leg.m; ELSE d_sum := d_sum + leg.m; END IF;
    ts := clock_timestamp();
    h := ledger_entry_hash(b_hash, txn, leg.a, leg.s, b_seq, leg.d, leg.m, leg.c, b_bal, ts);
    INSERT INTO ledger_entry (transaction_id, account_id, shard, seq, direction, amount,
                              currency, balance_after, posted_at, hash)
      VALUES (txn, leg.a, leg.s, b_seq, leg.d, leg.m, leg.c, b_bal, ts, h);
    b_hash := h;
    resolved := resolved || jsonb_build_object('account_id', leg.a, 'shard', leg.s,
      'direction', leg.d, 'amount', leg.m, 'currency', leg.c);
  END LOOP;
  IF cur_a IS NOT NULL THEN
    UPDATE ledger_balance SET posted_debits = posted_debits + d_sum,
      posted_credits = posted_credits + c_sum, seq = b_seq, head_hash = b_hash
    WHERE account_id = cur_a AND shard = cur_s;
  END IF;
  IF jsonb_array_length(pending) > 0 THEN
    UPDATE ledger_balance b SET pending_debits = b.pending_debits + p.qd,
                                pending_credits = b.pending_credits + p.qc
    FROM (SELECT u.a, u.s, sum(u.qd) qd, sum(u.qc) qc FROM unnest(t) u WHERE u.ord IS NULL
          GROUP BY u.a, u.s) p
    WHERE b.account_id = p.a AND b.shard = p.s;
  END IF;

  -- Status and balance rules, on the new balances, only where this operation lowers what
  -- the account can spend (a frozen wallet still receives; posting a hold spends nothing new).
  SELECT a.code, a.status, a.rule, a.currency, n.net,
         b.posted_credits - b.posted_debits - (b.pending_debits - coalesce(x.expired, 0))
           AS available
  INTO bad
  FROM (SELECT u.a, u.s, sum(u.pc - u.pd - u.qd) AS net, sum(u.pd + u.pc) AS moved
        FROM unnest(t) u GROUP BY u.a, u.s) n
  JOIN ledger_account a ON a.id = n.a
  JOIN ledger_balance b ON b.account_id = n.a AND b.shard = n.s
  LEFT JOIN LATERAL (SELECT sum(eh.amount) AS expired FROM ledger_hold eh
                     WHERE eh.debit_account_id = n.a AND eh.debit_shard = n.s
                       AND eh.status = 'pending' AND eh.expires_at <= now()) x ON true
  WHERE (a.status = 'closed' AND n.moved > 0)
     OR (n.net < 0 AND a.status = 'frozen')
     OR (n.net < 0 AND a.rule = 'debits_must_not_exceed_credits'
         AND b.posted_credits - b.posted_debits - (b.pending_debits - coalesce(x.expired, 0)) < 0)
     OR (n.net > 0 AND a.rule = 'credits_must_not_exceed_debits'
         AND b.posted_credits - b.posted_debits > 0)
  LIMIT 1;
  IF FOUND THEN
    IF bad.status = 'closed' THEN
      PERFORM ledger_fail('account_closed', jsonb_build_object('account', bad.code));
    ELSIF bad.status = 'frozen' AND bad.net < 0 THEN
      PERFORM ledger_fail('account_frozen', jsonb_build_object('account', bad.code));
    ELSIF bad.rule = 'credits_must_not_exceed_debits' THEN
      PERFORM ledger_fail('balance_rule_violated', jsonb_build_object('account', bad.code));
    ELSE
      PERFORM ledger_fail('insufficient_funds', jsonb_build_object('account', bad.code,
        'available', bad.available - bad.net, 'requested', -bad.net,
        'currency', bad.currency));
    END IF;
  END IF;
  RETURN resolved;
END $$;

-- p: {key, fp, kind, description, metadata, effective_at, by, reverses, request_id, legs}
CREATE OR REPLACE FUNCTION ledger_post(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE txn uuid; prior record; legs jsonb; ev jsonb; eff timestamptz;
BEGIN
  PERFORM ledger_check_legs(p->'legs');
  IF p->>'reverses' IS NOT NULL THEN
    SELECT id, idempotency_key INTO prior FROM ledger_transaction
      WHERE reverses_id = (p->>'reverses')::uuid;
    IF FOUND AND prior.idempotency_key <> p->>'key' THEN
      PERFORM ledger_fail('already_reversed', jsonb_build_object('reversal_id', prior.id));
    END IF;
  END IF;
  eff := coalesce((p->>'effective_at')::timestamptz, now());
  INSERT INTO ledger_transaction (id, idempotency_key, fingerprint, kind, description, metadata,
                                  effective_at, created_at, created_by, reverses_id)
  VALUES (gen_random_uuid(), p->>'key', p->>'fp', p->>'kind', coalesce(p->>'description', ''),
          coalesce(p->'metadata', '{}'::jsonb), eff, now(), coalesce(p->>'by', ''),
          (p->>'reverses')::uuid)
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id INTO txn;
  IF txn IS NULL THEN
    SELECT id, fingerprint INTO prior FROM ledger_transaction WHERE idempotency_key = p->>'key';
    IF prior.fingerprint <> p->>'fp' THEN
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

-- p: {key, fp, debit, credit, amount, currency, expires_at, kind, description, metadata,
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
  ds := ledger_pick_shard((p->>'debit')::uuid, p->>'key');
  cs := ledger_pick_shard((p->>'credit')::uuid, p->>'key');
  IF ds IS NULL OR cs IS NULL THEN PERFORM ledger_fail('account_not_found'); END IF;
  INSERT INTO ledger_hold (id, idempotency_key, fingerprint, debit_account_id, debit_shard,
    credit_account_id, credit_shard, amount, currency, status, expires_at, kind, description,
    metadata, created_at)
  VALUES (gen_random_uuid(), p->>'key', p->>'fp', (p->>'debit')::uuid, ds,
    (p->>'credit')::uuid, cs, amt, p->>'currency', 'pending', (p->>'expires_at')::timestamptz,
    p->>'kind', coalesce(p->>'description', ''), coalesce(p->'metadata', '{}'::jsonb), now())
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id INTO hid;
  IF hid IS NULL THEN
    SELECT id, fingerprint INTO prior FROM ledger_hold WHERE idempotency_key = p->>'key';
    IF prior.fingerprint <> p->>'fp' THEN
      PERFORM ledger_fail('idempotency_key_reused', jsonb_build_object('hold_id', prior.id));
    END IF;
    RETURN jsonb_build_object('hold_id', prior.id, 'replayed', true, 'events', '[]'::jsonb);
  END IF;
  -- Currency is checked by ledger_apply through these zero-amount legs' twins below.
  IF EXISTS (SELECT 1 FROM ledger_account WHERE id IN ((p->>'debit')::uuid, (p->>'credit')::uuid)
             AND currency <> p->>'currency') THEN
    PERFORM ledger_fail('currency_mismatch', jsonb_build_object('currency', p->>'currency'));
  END IF;
  PERFORM ledger_apply(NULL, '[]'::jsonb, jsonb_build_array(
    jsonb_build_object('a', p->>'debit', 's', ds, 'qd', amt),
    jsonb_build_object('a', p->>'credit', 's', cs, 'qc', amt)), p->>'key');
  ev := ledger_emit('ledger.hold_created', jsonb_build_object('hold_id', hid,
    'debit_account_id', p->>'debit', 'credit_account_id', p->>'credit', 'amount', amt,
    'currency', p->>'currency', 'expires_at', p->>'expires_at', 'kind', p->>'kind',
    'metadata', coalesce(p->'metadata', '{}'::jsonb)), p->>'request_id');
  RETURN jsonb_build_object('hold_id', hid, 'replayed', false, 'events', jsonb_build_array(ev));
END $$;

-- p: {hold, amount|null, key, fp, by, request_id}. Lock order: hold, then shards.
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
  IF h.expires_at IS NOT NULL AND h.expires_at <= now() THEN
    PERFORM ledger_fail('hold_expired', jsonb_build_object('expired_at', h.expires_at));
  END IF;
  IF amt <= 0 OR amt > h.amount THEN
    PERFORM ledger_fail('invalid_amount', jsonb_build_object('hold_amount', h.amount));
  END IF;
  INSERT INTO ledger_transaction (id, idempotency_key, fingerprint, kind, description, metadata,
                                  effective_at, created_at, created_by)
  VALUES (gen_random_uuid(), p->>'key', p->>'fp', h.kind, h.description,
          h.metadata || jsonb_build_object('hold_id', h.id), now(), now(),
          coalesce(p->>'by', ''))
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id INTO txn;
  IF txn IS NULL THEN
    PERFORM ledger_fail('idempotency_key_reused', jsonb_build_object('key', p->>'key'));
  END IF;
  legs := ledger_apply(txn,
    jsonb_build_array(
      jsonb_build_object('a', h.debit_account_id, 's', h.debit_shard, 'd', 'D', 'm', amt,
                         'c', h.currency),
      jsonb_build_object('a', h.credit_account_id, 's', h.credit_shard, 'd', 'C', 'm', amt,
                         'c', h.currency)),
    jsonb_build_array(
      jsonb_build_object('a', h.debit_account_id, 's', h.debit_shard, 'qd', -h.amount),
      jsonb_build_object('a', h.credit_account_id, 's', h.credit_shard, 'qc', -h.amount)),
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
    IF h.expires_at IS NULL OR h.expires_at > now() THEN
      RETURN jsonb_build_object('status', h.status, 'replayed', true, 'events', '[]'::jsonb);
    END IF;
    new_status := 'expired';
  ELSE
    new_status := 'voided';
  END IF;
  PERFORM ledger_apply(NULL, '[]'::jsonb, jsonb_build_array(
    jsonb_build_object('a', h.debit_account_id, 's', h.debit_shard, 'qd', -h.amount),
    jsonb_build_object('a', h.credit_account_id, 's', h.credit_shard, 'qc', -h.amount)),
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
CREATE TRIGGER ledger_transaction_append_only BEFORE UPDATE OR DELETE ON ledger_transaction
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

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
CREATE TRIGGER ledger_hold_once BEFORE UPDATE OR DELETE ON ledger_hold
  FOR EACH ROW EXECUTE FUNCTION ledger_hold_guard();

-- Checked at COMMIT, so even raw SQL cannot commit an unbalanced transaction.
CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE txn uuid;
BEGIN
  IF TG_TABLE_NAME = 'ledger_transaction' THEN
    txn := NEW.id;
    IF (SELECT count(*) FROM ledger_entry WHERE transaction_id = txn) < 2 THEN
      PERFORM ledger_fail('unbalanced_transaction', jsonb_build_object('transaction_id', txn,
        'reason', 'fewer than two entries'));
    END IF;
  ELSE
    txn := NEW.transaction_id;
  END IF;
  IF EXISTS (SELECT 1 FROM ledger_entry WHERE transaction_id = txn GROUP BY currency
             HAVING sum(CASE direction WHEN 'D' THEN amount ELSE -amount END) <> 0) THEN
    PERFORM ledger_fail('unbalanced_transaction', jsonb_build_object('transaction_id', txn,
      'reason', 'debits differ from credits'));
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_transaction_balanced AFTER INSERT ON ledger_transaction
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();
CREATE CONSTRAINT TRIGGER ledger_entry_balanced AFTER INSERT ON ledger_entry
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();
