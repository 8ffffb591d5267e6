-- The only SQL that changes a balance (loaded by migration 0018; billing/services/ledger.py
-- and debit_batch.py call it; docs/adr/0002 says why it is SQL).
--
-- billing_ledger_row: the ledger row of one balance change, with the balance it produced:
-- the one place that names the ledger's columns. Rows are stamped with the database clock;
-- p_created_at is only ever given by the demo's month of past history (billing/demo.py).
--
-- billing_post: move one wallet's balance by p_delta if the wallet can afford it (never
-- below what open reservations hold) and write its ledger row, in one call: the row lock
-- lasts that call plus the commit. No row comes back when the wallet cannot afford it. It
-- runs with the caller's rights (row-level security applies) and sets app.account_id for
-- the rest of the caller's transaction, to the tenant the caller is already in, or,
-- autocommitted, for that call alone. Every balance change of the application is one.
--
-- billing_post_batch: the debits of several requests in one statement and one commit
-- (group commit, billing/services/debit_batch.py): each wallet locked once (in account
-- order, so two batches cannot deadlock on each other), its debits accepted in array
-- order by billing_post's rule while it can afford them, one ledger row each, and one
-- UPDATE of the wallet (one audit row) for the lot. One row per accepted debit with its
-- 1-based index; a refused debit returns nothing, as billing_post does.

DROP FUNCTION IF EXISTS billing_post_batch(uuid[], uuid[], numeric[], text[], uuid[], text[], text[], text[]);
DROP FUNCTION IF EXISTS billing_post(uuid, uuid, numeric, text, uuid, text, text, text);
DROP FUNCTION IF EXISTS billing_post(
    uuid, uuid, numeric, text, uuid, text, text, text, boolean, text, text, text, numeric, text, text, uuid
);
DROP FUNCTION IF EXISTS billing_ledger_row(
    uuid, uuid, numeric, text, numeric, uuid, text, text, text, text, text, text, numeric, text, text, uuid
);
DROP FUNCTION IF EXISTS billing_post(
    uuid, uuid, numeric, text, uuid, text, text, text, boolean, text, text, text, numeric, text, text, uuid, timestamptz
);
DROP FUNCTION IF EXISTS billing_ledger_row(
    uuid, uuid, numeric, text, numeric, uuid, text, text, text, text, text, text, numeric, text, text, uuid, timestamptz
);

CREATE FUNCTION billing_ledger_row(
    p_id uuid, p_account uuid, p_delta numeric, p_type text, p_balance_after numeric, p_actor uuid,
    p_reference_type text, p_reference_id text, p_description text,
    p_payment_method text, p_provider text, p_provider_payment_id text, p_amount_paid numeric, p_currency text,
    p_idempotency_key text, p_refund_of uuid, p_created_at timestamptz
) RETURNS void LANGUAGE sql SECURITY INVOKER AS $$
    INSERT INTO billing_credittransaction
        (id, account_id, amount, type, balance_after, actor_id, reference_type, reference_id, description,
         payment_method, provider, provider_payment_id, amount_paid, currency, idempotency_key, refund_of_id,
         created_at)
    VALUES (p_id, p_account, p_delta, p_type, p_balance_after, p_actor, p_reference_type, p_reference_id,
            p_description, p_payment_method, p_provider, p_provider_payment_id, p_amount_paid, p_currency,
            p_idempotency_key, p_refund_of, COALESCE(p_created_at, clock_timestamp()))
$$;

CREATE FUNCTION billing_post(
    p_id uuid, p_account uuid, p_delta numeric, p_type text, p_actor uuid,
    p_reference_type text, p_reference_id text, p_description text,
    p_counts_lifetime boolean DEFAULT false,
    p_payment_method text DEFAULT '', p_provider text DEFAULT '', p_provider_payment_id text DEFAULT NULL,
    p_amount_paid numeric DEFAULT NULL, p_currency text DEFAULT '',
    p_idempotency_key text DEFAULT NULL, p_refund_of uuid DEFAULT NULL, p_created_at timestamptz DEFAULT NULL
) RETURNS TABLE (balance_after numeric, reserved numeric, auto_top_up_below numeric)
LANGUAGE plpgsql SECURITY INVOKER AS $$
#variable_conflict use_column
BEGIN
    PERFORM set_config('app.account_id', p_account::text, true);
    UPDATE billing_wallet w
       SET balance = w.balance + p_delta,
           lifetime_credits = w.lifetime_credits + CASE WHEN p_counts_lifetime THEN GREATEST(p_delta, 0) ELSE 0 END,
           updated_at = now()
     WHERE w.account_id = p_account AND w.balance - w.reserved + p_delta >= 0
 RETURNING w.balance, w.reserved, w.auto_top_up_below INTO balance_after, reserved, auto_top_up_below;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM billing_ledger_row(p_id, p_account, p_delta, p_type, balance_after, p_actor, p_reference_type,
                               p_reference_id, p_description, p_payment_method, p_provider, p_provider_payment_id,
                               p_amount_paid, p_currency, p_idempotency_key, p_refund_of, p_created_at);
    RETURN NEXT;
END $$;

CREATE FUNCTION billing_post_batch(
    p_ids uuid[], p_accounts uuid[], p_deltas numeric[], p_types text[], p_actors uuid[],
    p_reference_types text[], p_reference_ids text[], p_descriptions text[]
) RETURNS TABLE (idx integer, balance_after numeric, reserved numeric, auto_top_up_below numeric)
LANGUAGE plpgsql SECURITY INVOKER AS $$
#variable_conflict use_column
DECLARE
    v_account uuid;
    v_balance numeric;
    v_start numeric;
    v_reserved numeric;
    v_top_up numeric;
    i integer;
BEGIN
    FOR v_account IN SELECT DISTINCT a FROM unnest(p_accounts) AS a ORDER BY a LOOP
        PERFORM set_config('app.account_id', v_account::text, true);
        SELECT w.balance, w.reserved, w.auto_top_up_below INTO v_balance, v_reserved, v_top_up
          FROM billing_wallet w WHERE w.account_id = v_account FOR UPDATE;
        CONTINUE WHEN NOT FOUND;
        v_start := v_balance;
        FOR i IN 1 .. array_length(p_ids, 1) LOOP
            CONTINUE WHEN p_accounts[i] <> v_account OR v_balance - v_reserved + p_deltas[i] < 0;
            v_balance := v_balance + p_deltas[i];
            PERFORM billing_ledger_row(p_ids[i], v_account, p_deltas[i], p_types[i], v_balance, p_actors[i],
                                       p_reference_types[i], p_reference_ids[i], p_descriptions[i],
                                       '', '', NULL, NULL, '', NULL, NULL, NULL);
            idx := i; balance_after := v_balance; reserved := v_reserved; auto_top_up_below := v_top_up;
            RETURN NEXT;
        END LOOP;
        IF v_balance <> v_start THEN
            UPDATE billing_wallet SET balance = v_balance, updated_at = now() WHERE account_id = v_account;
        END IF;
    END LOOP;
END $$;
