-- Payments: create_transaction (idempotency, forged ids, validation),
-- update_transaction_status (lifecycle, balances, events), RLS per role,
-- payment methods. Concurrency is in tests/integrations.test.ts.
begin;
select plan(115);

select tests.create_supabase_user('pay_alice');
select tests.create_supabase_user('pay_bob');
select tests.create_supabase_user('pay_admin', app_metadata => '{"role":"admin"}');

-- ---------------------------------------------------------------------------
-- Service role funds alice
-- ---------------------------------------------------------------------------
select tests.authenticate_as_service_role();

select tests.remember('credit100', (public.create_transaction(tests.get_supabase_uid('pay_alice'), 'credit', 100, 'USD', 'fund-1')).id);
select is((select status from public.transactions where id = tests.id('credit100')), 'pending',
  'a new transaction is pending');
select is((select balance from public.account_balances where user_id = tests.get_supabase_uid('pay_alice') and currency = 'USD'),
  null, 'a pending credit does not add to the balance');
select is((public.update_transaction_status(tests.id('credit100'), 'completed')).status, 'completed',
  'the service role completes a credit');
select is((select balance from public.account_balances where user_id = tests.get_supabase_uid('pay_alice') and currency = 'USD'),
  100.0000, 'a completed credit adds to the balance');
select isnt((select completed_at from public.transactions where id = tests.id('credit100')), null,
  'completed_at is set');
select is((public.update_transaction_status(tests.id('credit100'), 'completed')).status, 'completed',
  'completing again is a no-op ...');
select is((select balance from public.account_balances where user_id = tests.get_supabase_uid('pay_alice') and currency = 'USD'),
  100.0000, '... that adds nothing');
select results_eq(
  format($$select from_status, to_status, actor_role from public.transaction_events where transaction_id = %L order by id$$,
         tests.id('credit100')),
  $$values (null::text, 'pending'::text, 'service_role'::text), ('pending', 'completed', 'service_role')$$,
  'every status change is one event, creation included');
select ok(exists (select 1 from pg_catalog.pg_inherits as i join pg_catalog.pg_class as c on c.oid = i.inhrelid
                   where i.inhparent = 'public.transactions'::regclass and c.relname = 'transactions_p' || to_char(now() at time zone 'UTC', 'YYYYMM')),
  'transactions has a partition for the current month');
select is((select c.relname::text from public.transactions as t join pg_catalog.pg_class as c on c.oid = t.tableoid
            where t.id = tests.id('credit100')),
  'transactions_p' || to_char(now() at time zone 'UTC', 'YYYYMM'), 'a transaction lands in its month''s partition');

select throws_ok(format($$select public.create_transaction(%L, 'credit', 1, 'USD', null)$$, gen_random_uuid()),
  '23503', null, 'the service role cannot create a transaction for an unknown user');
select throws_ok($$select public.create_transaction(null, 'credit', 1, 'USD', null)$$,
  '22023', 'invalid p_user_id: required', 'p_user_id is required');

-- ---------------------------------------------------------------------------
-- The owner
-- ---------------------------------------------------------------------------
select tests.authenticate_as('pay_alice');

select tests.remember('debit30', (public.create_transaction(tests.get_supabase_uid('pay_alice'), 'debit', 30, 'USD', 'order-1')).id);
select is((select balance from public.account_balances where currency = 'USD'), 70.0000, 'a debit holds its amount at once');
select is((public.create_transaction(tests.get_supabase_uid('pay_alice'), 'debit', 30, 'USD', 'order-1')).id,
  tests.id('debit30'), 'the same idempotency key returns the same transaction');
select is((select count(*)::int from public.transactions where idempotency_key = 'order-1'), 1, '... and creates no second one');
select is((select balance from public.account_balances where currency = 'USD'), 70.0000, '... nor holds the amount twice');
select throws_ok($$select public.create_transaction(auth.uid(), 'debit', 31, 'USD', 'order-1')$$,
  'PT409', 'idempotency key "order-1" was already used with different parameters', 'the same key with another amount is an error');
select throws_ok($$select public.create_transaction(auth.uid(), 'credit', 30, 'USD', 'order-1')$$,
  'PT409', null, 'the same key with another type is an error');
select throws_ok($$select public.create_transaction(auth.uid(), 'debit', 30, 'EUR', 'order-1')$$,
  'PT409', null, 'the same key with another currency is an error');
select is((public.create_transaction(tests.get_supabase_uid('pay_alice'), 'credit', 100, 'USD', 'fund-1')).id,
  tests.id('credit100'), 'a key belongs to the user: replaying the service role''s request for her returns it');
select tests.remember('credit5', (public.create_transaction(tests.get_supabase_uid('pay_alice'), 'credit', 5, 'USD', null)).id);

-- forged ids
select throws_ok(format($$select public.create_transaction(%L, 'credit', 10, 'USD', null)$$, tests.get_supabase_uid('pay_bob')),
  '42501', 'p_user_id must be your own user id', 'a user cannot create a transaction for another user');
select throws_ok(format($$select public.create_transaction(%L, 'debit', 10, 'USD', 'forged')$$, tests.get_supabase_uid('pay_bob')),
  '42501', null, '... not a debit either');

-- bad input: specific errors, nothing written
select throws_ok($$select public.create_transaction(auth.uid(), 'transfer', 10, 'USD', null)$$,
  '22023', 'invalid p_type: must be credit or debit', 'an unknown type is rejected');
select throws_ok($$select public.create_transaction(auth.uid(), 'credit', 0, 'USD', null)$$,
  '22023', 'invalid p_amount: must be positive, below 10^16, with at most 4 decimal places', 'a zero amount is rejected');
select throws_ok($$select public.create_transaction(auth.uid(), 'credit', -5, 'USD', null)$$, '22023', null, 'a negative amount is rejected');
select throws_ok($$select public.create_transaction(auth.uid(), 'credit', 1.23456, 'USD', null)$$, '22023', null,
  'more than 4 decimal places is rejected');
select throws_ok($$select public.create_transaction(auth.uid(), 'credit', null, 'USD', null)$$, '22023', null, 'a null amount is rejected');
select throws_ok($$select public.create_transaction(auth.uid(), 'credit', 1, 'usd', null)$$,
  '22023', 'invalid p_currency: must be an ISO 4217 code such as USD', 'a lower-case currency is rejected');
select throws_ok($$select public.create_transaction(auth.uid(), 'credit', 1, 'USD', repeat('k', 256))$$,
  '22023', 'invalid p_idempotency_key: 1 to 255 printable characters', 'a 256-character key is rejected');
select throws_ok($$select public.create_transaction(auth.uid(), 'credit', 1, 'USD', '')$$, '22023', null, 'an empty key is rejected');
select throws_ok($$select public.create_transaction(auth.uid(), 'debit', 1000, 'USD', 'too-much')$$,
  'PT409', 'insufficient funds: the USD balance is below 1000', 'a debit above the balance is refused');
select throws_ok($$select public.create_transaction(auth.uid(), 'debit', 1, 'EUR', null)$$,
  'PT409', null, 'a debit in a currency without balance is refused');
select is((select count(*)::int from public.transactions), 3, 'rejected requests wrote no transaction');
select is((select count(*)::int from public.transaction_events where to_status = 'pending'), 3, '... and no event');
select is((select balance from public.account_balances where currency = 'USD'), 70.0000, '... and moved no money');
select ok((public.create_transaction(auth.uid(), 'debit', 1, 'USD', 'too-much')).id is not null,
  'a refused key is not kept: the same key works once the request is valid');

-- the table itself
select throws_ok($$insert into public.transactions (user_id, type, amount, currency) values (auth.uid(), 'credit', 1000000, 'USD')$$,
  '42501', null, 'users cannot insert transactions directly');
select throws_ok($$update public.transactions set status = 'completed'$$, '42501', null, 'users cannot update transactions directly');
select throws_ok($$update public.account_balances set balance = 1e6$$, '42501', null, 'users cannot change balances');

-- status changes by the owner
select throws_ok(format($$select public.update_transaction_status(%L, 'completed')$$,
                        (select id from public.transactions where type = 'credit' and status = 'pending' limit 1)),
  '42501', 'only the service role may set a transaction to completed', 'a user cannot complete their own credit');
select is((public.update_transaction_status(tests.id('debit30'), 'cancelled')).status, 'cancelled',
  'a user may cancel their own pending transaction');
select is((select balance from public.account_balances where currency = 'USD'), 99.0000, 'cancelling a debit releases the hold');
select throws_ok(format($$select public.update_transaction_status(%L, 'pending')$$, tests.id('debit30')),
  'PT409', 'invalid status transition: cancelled -> pending', 'a final status cannot be left');
select throws_ok(format($$select public.update_transaction_status(%L, 'bogus')$$, tests.id('debit30')),
  '22023', 'invalid p_new_status: must be one of pending, processing, completed, failed, cancelled, refunded', 'an unknown status is rejected');
select throws_ok(format($$select public.update_transaction_status(%L, 'cancelled')$$, gen_random_uuid()),
  'PT404', null, 'an unknown transaction is not found');

select is((select count(*)::int from public.transactions where user_id <> auth.uid()), 0, 'a user sees only their own transactions');
select is((select count(*)::int from public.transaction_events where user_id <> auth.uid()), 0, '... and their own events');

-- ---------------------------------------------------------------------------
-- Another user
-- ---------------------------------------------------------------------------
select tests.authenticate_as('pay_bob');
select is_empty($$select 1 from public.transactions$$, 'bob sees none of alice''s transactions');
select is_empty($$select 1 from public.account_balances$$, '... nor her balance');
select isnt((public.create_transaction(tests.get_supabase_uid('pay_bob'), 'credit', 1, 'USD', 'order-1')).id,
  tests.id('debit30'), 'keys are per user: bob''s order-1 is a new transaction');
select throws_ok(format($$select public.update_transaction_status(%L, 'cancelled')$$,
                        tests.id('credit100')),
  'PT404', null, 'bob cannot change alice''s transaction: it does not exist for him');

-- ---------------------------------------------------------------------------
-- Admin
-- ---------------------------------------------------------------------------
select tests.authenticate_as('pay_admin');
select cmp_ok((select count(*)::int from public.transactions), '>=', 4, 'an admin reads every transaction');
select cmp_ok((select count(*)::int from public.account_balances), '>=', 1, 'an admin reads balances');
select throws_ok(format($$select public.update_transaction_status(%L, 'refunded')$$, tests.id('credit100')),
  '42501', null, 'an admin cannot move money: status changes are the payment backend''s');

-- ---------------------------------------------------------------------------
-- anon
-- ---------------------------------------------------------------------------
select tests.clear_authentication();
select throws_ok(format($$select public.create_transaction(%L, 'credit', 1, 'USD', null)$$, tests.get_supabase_uid('pay_alice')),
  '42501', null, 'anon cannot create transactions');
select throws_ok($$select 1 from public.transactions$$, '42501', null, 'anon cannot read transactions');
select throws_ok(format($$select public.update_transaction_status(%L, 'cancelled')$$, tests.id('credit100')),
  '42501', null, 'anon cannot change statuses');

-- ---------------------------------------------------------------------------
-- Lifecycle and balances (service role)
-- ---------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select tests.remember('debit20', (public.create_transaction(tests.get_supabase_uid('pay_alice'), 'debit', 20, 'USD', null)).id);
select is((public.update_transaction_status(tests.id('debit20'), 'processing')).status, 'processing',
  'pending -> processing');
select is((public.update_transaction_status(tests.id('debit20'), 'completed')).status, 'completed',
  'processing -> completed');
select is((select balance from public.account_balances where user_id = tests.get_supabase_uid('pay_alice') and currency = 'USD'),
  79.0000, 'a completed debit keeps the amount taken');
select is((public.update_transaction_status(tests.id('debit20'), 'refunded')).status, 'refunded',
  'completed -> refunded');
select is((select balance from public.account_balances where user_id = tests.get_supabase_uid('pay_alice') and currency = 'USD'),
  99.0000, 'refunding a debit gives the money back');
select throws_ok(format($$select public.update_transaction_status(%L, 'completed')$$, tests.id('debit20')),
  'PT409', 'invalid status transition: refunded -> completed', 'refunded is final');
select results_eq(
  format($$select from_status, to_status from public.transaction_events where transaction_id = %L order by id$$, tests.id('debit20')),
  $$values (null::text, 'pending'::text), ('pending', 'processing'), ('processing', 'completed'), ('completed', 'refunded')$$,
  'the trail has every step in order');

select tests.remember('debit_fail', (public.create_transaction(tests.get_supabase_uid('pay_alice'), 'debit', 8, 'USD', null)).id);
select is((public.update_transaction_status(tests.id('debit_fail'), 'failed')).status, 'failed', 'pending -> failed');
select is((select balance from public.account_balances where user_id = tests.get_supabase_uid('pay_alice') and currency = 'USD'),
  99.0000, 'a failed debit releases its hold');

-- refunding a credit whose money was spent
select tests.remember('credit_small', (public.create_transaction(tests.get_supabase_uid('pay_bob'), 'credit', 10, 'USD', null)).id);
select lives_ok(format($$select public.update_transaction_status(%L, 'completed')$$, tests.id('credit_small')),
  'bob is credited 10');
select lives_ok(format($$select public.create_transaction(%L, 'debit', 7, 'USD', null)$$, tests.get_supabase_uid('pay_bob')),
  'bob spends 7');
select throws_ok(format($$select public.update_transaction_status(%L, 'refunded')$$, tests.id('credit_small')),
  'PT409', 'insufficient funds: refunding this credit would make the USD balance negative', 'a refund never drives a balance negative');
select is((select status from public.transactions where id = tests.id('credit_small')), 'completed',
  '... and the refused refund changed nothing');

-- ---------------------------------------------------------------------------
-- Payment methods
-- ---------------------------------------------------------------------------
insert into public.payment_methods (id, user_id, method_type, provider, provider_reference, label, last4)
values ('00000000-0000-4000-a000-000000000001', tests.get_supabase_uid('pay_alice'), 'card', 'stripe', 'pm_1', 'Visa', '4242'),
       ('00000000-0000-4000-a000-000000000002', tests.get_supabase_uid('pay_alice'), 'mobile_money', 'mtn_momo', 'acct_250788', 'MoMo', '3456');
select tests.authenticate_as('pay_alice');
select is((public.set_default_payment_method('00000000-0000-4000-a000-000000000001')).is_default, true, 'a user sets a default payment method');
select is((public.set_default_payment_method('00000000-0000-4000-a000-000000000002')).is_default, true, 'a user changes it');
select is((select count(*)::int from public.payment_methods where is_default), 1, 'there is one default at a time');
select tests.authenticate_as('pay_bob');
select throws_ok($$select public.set_default_payment_method('00000000-0000-4000-a000-000000000001')$$,
  'PT404', null, 'another user''s payment method is not found');
select is_empty($$delete from public.payment_methods returning id$$, 'bob cannot delete alice''s payment methods');
select tests.authenticate_as('pay_alice');
select throws_ok($$insert into public.payment_methods (user_id, method_type, provider, provider_reference) values (auth.uid(), 'card', 'stripe', 'pm_x')$$,
  '42501', null, 'users do not add payment methods directly (the backend does, after tokenising)');
select isnt_empty($$delete from public.payment_methods where id = '00000000-0000-4000-a000-000000000001' returning id$$,
  'a user deletes their own payment method');
select tests.clear_authentication();
select throws_ok($$select public.set_default_payment_method('00000000-0000-4000-a000-000000000002')$$, '42501', null,
  'anon cannot choose a default payment method');
select throws_ok($$select 1 from public.payment_methods$$, '42501', null, 'anon reads no payment methods');

-- ---------------------------------------------------------------------------
-- Replays read the transaction itself (the key row holds only its id)
-- ---------------------------------------------------------------------------
select tests.reset_role();
create temp table replay_before on commit drop as
  select (select status from public.transactions where id = tests.id('credit100')) as status,
         (select count(*)::int from public.transaction_events) as events;
grant select on replay_before to public;
select tests.authenticate_as_service_role();
select is((public.create_transaction(tests.get_supabase_uid('pay_alice'), 'credit', 100, 'USD', 'fund-1')).status,
  (select status from replay_before), 'a replay returns the transaction as it is now, after its status changed');
select tests.reset_role();
select is((select count(*)::int from public.transaction_events), (select events from replay_before), '... and writes no event');
select col_is_pk('public', 'transaction_events', array['transaction_id', 'created_at', 'id'],
  'transaction_events is keyed by (transaction_id, created_at, id): one index serves the key and reading a transaction''s trail');

-- ---------------------------------------------------------------------------
-- Numbers are finite, in the arguments and in every numeric column
-- ---------------------------------------------------------------------------
select tests.authenticate_as('pay_bob');
select throws_ok($$select public.create_transaction(auth.uid(), 'credit', 'NaN', 'USD', null)$$,
  '22023', 'invalid p_amount: must be a finite number', 'a user''s NaN amount is rejected (NaN > 0 holds in PostgreSQL)');
select throws_ok($$select public.create_transaction(auth.uid(), 'debit', 'Infinity', 'USD', null)$$,
  '22023', 'invalid p_amount: must be a finite number', 'an infinite amount is rejected');
select tests.authenticate_as_service_role();
select throws_ok(format($$select public.create_transaction(%L, 'credit', '-Infinity', 'USD', null)$$, tests.get_supabase_uid('pay_bob')),
  '22023', 'invalid p_amount: must be a finite number', 'the service role''s non-finite amount is rejected too');
select tests.reset_role();
select throws_ok(format($$insert into public.transactions (user_id, type, amount, currency) values (%L, 'credit', 'NaN', 'USD')$$,
    tests.get_supabase_uid('pay_bob')),
  '23514', null, 'transactions.amount refuses NaN even from SQL');
select throws_ok(format($$insert into public.account_balances (user_id, currency, balance) values (%L, 'XAF', 'NaN')$$,
    tests.get_supabase_uid('pay_bob')),
  '23514', null, 'account_balances.balance refuses NaN even from SQL');
select throws_ok(format($$insert into public.payment_methods (user_id, method_type, provider, provider_reference, expires_on) values (%L, 'card', 'stripe', 'pm_inf', 'infinity')$$,
    tests.get_supabase_uid('pay_bob')),
  '23514', null, 'payment_methods.expires_on refuses infinity');

-- ---------------------------------------------------------------------------
-- Table grants: users write only through the RPCs (and label/default of their own methods)
-- ---------------------------------------------------------------------------
select tests.authenticate_as('pay_bob');
select throws_ok(format($$insert into public.transaction_events (transaction_id, user_id, to_status, actor_role) values (%L, auth.uid(), 'completed', 'service_role')$$,
    tests.id('credit100')),
  '42501', null, 'users cannot forge transaction events');
select throws_ok($$insert into public.account_balances (user_id, currency, balance) values (auth.uid(), 'EUR', 1e6)$$,
  '42501', null, 'users cannot create balances');
select throws_ok($$delete from public.transactions$$, '42501', null, 'users cannot delete transactions');
select throws_ok($$update public.payment_methods set provider_reference = 'pm_other'$$, '42501', null,
  'users cannot point a payment method at another provider reference');
select throws_ok($$update public.payment_methods set user_id = auth.uid()$$, '42501', null, 'users cannot take over a payment method');

-- ---------------------------------------------------------------------------
-- Correlation ids (seed 004 best practice: create_transaction(p_correlation_id))
-- ---------------------------------------------------------------------------
select tests.create_supabase_user('pay_corr');
select tests.authenticate_as('pay_corr');
select tests.remember('corr_user', gen_random_uuid());
select tests.remember('corr_tx', (public.create_transaction(p_user_id => auth.uid(), p_type => 'credit', p_amount => 3,
  p_currency => 'USD', p_correlation_id => tests.id('corr_user'))).id);
select is((select correlation_id from public.transaction_events where transaction_id = tests.id('corr_tx') and from_status is null),
  tests.id('corr_user'), 'user: the seed''s named call with p_correlation_id records it on the creation event');
select lives_ok(format($$select public.create_transaction(auth.uid(), 'credit', 1, 'USD', 'corr-again', %L)$$, tests.id('corr_user')),
  'the user writes again under a correlation id that is theirs');
select is((select count(*)::int from public.transaction_events where correlation_id = tests.id('corr_user')), 2,
  'both creation events carry it');
set local app.correlation_id = '7d1f7c6e-5a0b-4c8e-9f3a-2b1c0d9e8f71';
select tests.remember('corr_hdr_tx', (public.create_transaction(auth.uid(), 'credit', 1, 'USD')).id);
select is((select correlation_id from public.transaction_events where transaction_id = tests.id('corr_hdr_tx')),
  '7d1f7c6e-5a0b-4c8e-9f3a-2b1c0d9e8f71'::uuid, 'left out, the request''s correlation id is recorded');
reset app.correlation_id;
select tests.remember('corr_plain_tx', (public.create_transaction(auth.uid(), 'credit', 1, 'USD')).id);
select is((select correlation_id from public.transaction_events where transaction_id = tests.id('corr_plain_tx')), null,
  'without one and without a request id it is null (the four-argument call still works)');
select throws_ok($$select public.create_transaction(auth.uid(), 'credit', 1, 'USD', null, 'not-a-uuid')$$,
  '22P02', null, 'a correlation id that is not a uuid is rejected');

-- another user's trace: pay_alice has written under it (an audit event)
select tests.authenticate_as('pay_alice');
select tests.remember('corr_alice', gen_random_uuid());
select lives_ok(format($$select public.log_audit_event(null, null, 'checkout', 'cart', p_correlation_id => %L)$$, tests.id('corr_alice')),
  'alice writes under her correlation id');
select tests.authenticate_as('pay_corr');
select throws_ok(format($$select public.create_transaction(auth.uid(), 'credit', 1, 'USD', 'corr-foreign', %L)$$, tests.id('corr_alice')),
  '42501', format('correlation id %s belongs to another user''s trace', tests.id('corr_alice')),
  'a user cannot file a transaction under another user''s correlation id');
select is((select count(*)::int from public.transactions where idempotency_key = 'corr-foreign'), 0, 'and nothing is created');

select tests.authenticate_as_service_role();
select tests.remember('corr_svc_tx', (public.create_transaction(tests.get_supabase_uid('pay_corr'), 'credit', 2, 'USD', 'corr-svc', tests.id('corr_alice'))).id);
select is((select correlation_id from public.transaction_events where transaction_id = tests.id('corr_svc_tx')), tests.id('corr_alice'),
  'the service role writes under any correlation id');
select is((public.update_transaction_status(tests.id('corr_svc_tx'), 'completed')).status, 'completed', 'the transaction moves on');
select is((select correlation_id from public.transaction_events where transaction_id = tests.id('corr_svc_tx') and to_status = 'completed'), null,
  'only the creation event carries the creation''s correlation id');
select is((public.create_transaction(tests.get_supabase_uid('pay_corr'), 'credit', 2, 'USD', 'corr-svc', gen_random_uuid())).id,
  tests.id('corr_svc_tx'), 'a replay of the idempotency key with another correlation id returns the same transaction');
select is((select count(*)::int from public.transaction_events where transaction_id = tests.id('corr_svc_tx')), 2,
  'and records no event');
select throws_ok(format($$select public.create_transaction(%L, null, 2, 'USD', 'corr-svc')$$, tests.get_supabase_uid('pay_corr')),
  '22023', 'invalid p_type: must be credit or debit', 'a replayed key with a missing argument is invalid input, not a replay');
select throws_ok(format($$select public.create_transaction(%L, 'credit', 'NaN', 'USD', 'corr-svc')$$, tests.get_supabase_uid('pay_corr')),
  '22023', 'invalid p_amount: must be a finite number', 'a replayed key with a non-finite amount is invalid input, not a conflict');

-- ---------------------------------------------------------------------------
-- Write quota: a user's transactions and cancellations count as writes
-- ---------------------------------------------------------------------------
select tests.create_supabase_user('pay_quota');
select tests.authenticate_as('pay_quota');
set local app.usage_now = '2026-03-11 08:00:00+00';
select lives_ok($$select public.create_transaction(auth.uid(), 'credit', 1, 'USD', null) from generate_series(1, 119)$$,
  'basic: 119 transactions in a minute pass');
select tests.remember('quota_tx', (public.create_transaction(tests.get_supabase_uid('pay_quota'), 'credit', 1, 'USD', 'quota-last')).id);
select throws_ok($$select public.create_transaction(auth.uid(), 'credit', 1, 'USD', null)$$,
  'PT429', 'rate limit exceeded for writes: try again in 1 seconds', 'the 121st write in a minute is PT429');
select throws_ok($$select public.create_transaction(auth.uid(), 'credit', 1, 'USD', 'quota-last')$$,
  'PT429', null, 'a replay of an idempotency key counts as a write too');
select throws_ok(format($$select public.update_transaction_status(%L, 'cancelled')$$, tests.id('quota_tx')),
  'PT429', null, 'so is a cancellation (it writes an event)');
set local app.usage_now = '2026-03-11 08:01:00+00';
select is((public.update_transaction_status(tests.id('quota_tx'), 'cancelled')).status, 'cancelled',
  'a minute later the user writes again');
select tests.authenticate_as_service_role();
set local app.usage_now = '2026-03-11 08:01:00+00';
select lives_ok(format($$select public.create_transaction(%L, 'credit', 1, 'USD', null) from generate_series(1, 130)$$,
    tests.get_supabase_uid('pay_quota')),
  'the service role (the payment backend) is not limited');
reset app.usage_now;
select tests.reset_role();

select * from finish();
rollback;
