"""Debits of several requests in one statement and one commit (group commit).

`billing_post_batch` takes parallel arrays (one element per debit), locks each
wallet once (in account order, so two batches cannot deadlock on each other),
accepts the debits in array order while the wallet can afford them, writes one
ledger row per accepted debit with its running balance, and moves each wallet's
balance with one UPDATE. It returns one row per accepted debit (its 1-based
index); a refused debit returns nothing, as `billing_post` does.

Like `billing_post` it runs with the caller's rights: row-level security applies,
and it sets `app.account_id` per wallet for its own transaction only.
"""

from django.db import migrations

FORWARD = r"""
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
            INSERT INTO billing_credittransaction
                (id, account_id, amount, type, balance_after, actor_id, reference_type, reference_id, description,
                 payment_method, provider, provider_payment_id, amount_paid, currency, idempotency_key,
                 refund_of_id, created_at)
            VALUES (p_ids[i], v_account, p_deltas[i], p_types[i], v_balance, p_actors[i], p_reference_types[i],
                    p_reference_ids[i], p_descriptions[i], '', '', NULL, NULL, '', NULL, NULL, clock_timestamp());
            idx := i; balance_after := v_balance; reserved := v_reserved; auto_top_up_below := v_top_up;
            RETURN NEXT;
        END LOOP;
        IF v_balance <> v_start THEN
            UPDATE billing_wallet SET balance = v_balance, updated_at = now() WHERE account_id = v_account;
        END IF;
    END LOOP;
END $$;
"""
BACKWARD = (
    "DROP FUNCTION IF EXISTS billing_post_batch(uuid[], uuid[], numeric[], text[], uuid[], text[], text[], text[])"
)


class Migration(migrations.Migration):
    dependencies = [("billing", "0009_audit_trigger_direct_columns")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
