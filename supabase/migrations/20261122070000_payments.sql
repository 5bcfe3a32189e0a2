-- Payments: idempotent transactions with an enforced status lifecycle, their
-- event trail, balances that never go negative, and payment methods.
--
-- Seed 004: `transactions` (partitioned by month, idempotency key),
-- `payment_methods`, `transaction_events`, `create_transaction(p_user_id,
-- p_type, p_amount, p_currency, p_idempotency_key)`,
-- `update_transaction_status(p_transaction_id, p_new_status)`.
-- Mapping and choices: docs/integrations.md.
--
-- Idempotency across partitions: a unique index on a partitioned table must
-- contain the partition key (created_at), so it could only make a key unique
-- within one month. The keys live in their own unpartitioned table,
-- private.transaction_idempotency_keys, primary key (user_id, idempotency_key),
-- written in the same transaction as the transaction row. Two racing identical
-- requests meet on that primary key: the second waits for the first to commit,
-- then finds its row and returns the same transaction. Keys are kept as long as
-- the transactions (no retention), so a replay months later is still a replay.

-- ---------------------------------------------------------------------------
-- Shared helper: the caller is the service role (the secret key). An SQL
-- function with a `set search_path` clause can be neither inlined nor cached,
-- so each call runs the SQL-function executor: the hot functions
-- (create_transaction, update_transaction_status, find_nearby_locations)
-- write the same expression inline instead (auth.jwt() and auth.uid() have no
-- SET clause and inline), as they do for private.uuid_v7().
-- ---------------------------------------------------------------------------
create or replace function private.is_service_role()
returns boolean
language sql
stable
security invoker
set search_path = ''
as $$
  -- The SET clause (required project-wide) keeps this from being inlined, so
  -- each call runs the SQL-function executor; hot paths write the expression
  -- inline instead.
  select coalesce(auth.jwt() ->> 'role' = 'service_role', false);
$$;

comment on function private.is_service_role() is
  'True when the request carries the service role''s JWT (the secret key). For plpgsql on cold paths (hot ones inline the expression); policies should use (select auth.jwt()).';

revoke execute on function private.is_service_role() from public, anon, authenticated, service_role;
grant execute on function private.is_service_role() to authenticated, service_role;

-- Exponential backoff shared by every retrying sender in this domain:
-- base * 2^(attempt-1), capped. No jitter: workers are few and the schedule
-- stays predictable (and testable).
create or replace function private.retry_backoff(p_attempt integer, p_base interval, p_cap interval)
returns interval
language sql
immutable
security invoker
set search_path = ''
as $$
  select least(p_base * pg_catalog.power(2, greatest(p_attempt, 1) - 1)::double precision, p_cap);
$$;

comment on function private.retry_backoff(integer, interval, interval) is
  'Delay before retry number p_attempt: p_base * 2^(p_attempt-1), at most p_cap.';

revoke execute on function private.retry_backoff(integer, interval, interval) from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------
-- transactions (partitioned by month on created_at)
-- ---------------------------------------------------------------------------
create table if not exists public.transactions (
  id uuid not null default private.uuid_v7(),
  created_at timestamptz not null default now(),
  user_id uuid not null references auth.users (id) on delete cascade,
  type text not null,
  amount numeric(20, 4) not null,
  currency text not null,
  status text not null default 'pending',
  idempotency_key text,
  updated_at timestamptz not null default now(),
  completed_at timestamptz,
  primary key (id, created_at),
  constraint transactions_type_check check (type in ('credit', 'debit')),
  constraint transactions_amount_check check (amount > 0),
  constraint transactions_currency_check check (currency ~ '^[A-Z]{3}$'),
  constraint transactions_status_check check (status in ('pending', 'processing', 'completed', 'failed', 'cancelled', 'refunded'))
) partition by range (created_at);

comment on table public.transactions is
  'Money movements of a user (seed 004): credit adds to the balance when completed, debit holds the amount at creation. Partitioned by month; written only through create_transaction and update_transaction_status.';
comment on column public.transactions.amount is 'Positive amount in the currency''s units, at most 4 decimal places.';
comment on column public.transactions.currency is 'ISO 4217 code, upper case (USD, EUR, RWF).';
comment on column public.transactions.status is 'pending -> processing -> completed | failed | cancelled; completed -> refunded. Every change is in transaction_events.';
comment on column public.transactions.idempotency_key is 'The client''s idempotency key, when it sent one (unique per user in private.transaction_idempotency_keys).';

create index if not exists transactions_user_id_created_at_idx on public.transactions (user_id, created_at desc);

select private.register_partitioned_table('public.transactions', p_premake => 3, p_retention => null);

alter table public.transactions enable row level security;

create policy transactions_select on public.transactions
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));

revoke all on table public.transactions from anon, authenticated, service_role;
grant select on table public.transactions to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- transaction_events: the lifecycle trail (partitioned by month)
-- ---------------------------------------------------------------------------
create table if not exists public.transaction_events (
  id bigint generated by default as identity,
  created_at timestamptz not null default now(),
  transaction_id uuid not null,
  -- no foreign key: see private.delete_user_payment_records() (one check less per write)
  user_id uuid not null,
  from_status text,
  to_status text not null,
  actor_id uuid,
  actor_role text not null,
  -- the order one transaction's events are read in; one appending index per
  -- event (an id-first key would need a second index for that read)
  primary key (transaction_id, created_at, id)
) partition by range (created_at);

comment on table public.transaction_events is
  'One row per transaction status change, creation included (from_status null). Seed 004 transaction_events. Partitioned by month.';
comment on column public.transaction_events.actor_id is 'The user who made the change; null for the service role.';
comment on column public.transaction_events.actor_role is '''authenticated'' or ''service_role''.';

create index if not exists transaction_events_user_id_idx on public.transaction_events (user_id, created_at desc);

select private.register_partitioned_table('public.transaction_events', p_premake => 3, p_retention => null);

alter table public.transaction_events enable row level security;

create policy transaction_events_select on public.transaction_events
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));

revoke all on table public.transaction_events from anon, authenticated, service_role;
grant select on table public.transaction_events to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- Idempotency keys: unpartitioned, so a key is unique across all months. The
-- key row holds no copy of type, amount and currency: the transaction row has
-- them and never changes them, so a replay compares against the transaction
-- it returns (one statement, a join).
-- ---------------------------------------------------------------------------
create table if not exists private.transaction_idempotency_keys (
  user_id uuid not null,
  idempotency_key text not null,
  transaction_id uuid not null,
  transaction_created_at timestamptz not null,
  primary key (user_id, idempotency_key)
);

comment on table private.transaction_idempotency_keys is
  'One row per (user, idempotency key) with the transaction it created (id and created_at, to reach its partition); a replay returns that transaction, other parameters than the transaction''s are an error.';

alter table private.transaction_idempotency_keys enable row level security;
revoke all on table private.transaction_idempotency_keys from public, anon, authenticated, service_role;

-- transaction_events and the idempotency keys are written with every
-- transaction; a foreign key to auth.users on each would cost a lookup per
-- row. transactions has the foreign key (a transaction must have a user); the
-- other two are emptied for a deleted user here, in the same transaction.
create or replace function private.delete_user_payment_records()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from public.transaction_events as e where e.user_id = old.id;
  delete from private.transaction_idempotency_keys as k where k.user_id = old.id;
  return old;
end;
$$;

comment on function private.delete_user_payment_records() is
  'Trigger on auth.users delete: removes the user''s transaction events and idempotency keys (tables without a foreign key, for write speed).';

revoke execute on function private.delete_user_payment_records() from public, anon, authenticated, service_role;

create trigger on_auth_user_deleted_payment_records
  after delete on auth.users
  for each row execute function private.delete_user_payment_records();

-- ---------------------------------------------------------------------------
-- account_balances: available funds per user and currency, never negative.
-- ---------------------------------------------------------------------------
create table if not exists public.account_balances (
  user_id uuid not null references auth.users (id) on delete cascade,
  currency text not null,
  balance numeric(20, 4) not null default 0,
  updated_at timestamptz not null default now(),
  primary key (user_id, currency),
  constraint account_balances_currency_check check (currency ~ '^[A-Z]{3}$'),
  constraint account_balances_balance_check check (balance >= 0)
);

comment on table public.account_balances is
  'Available funds of a user per currency: completed credits minus debits (held from creation until they fail, are cancelled or refunded). Never negative.';

alter table public.account_balances enable row level security;

create policy account_balances_select on public.account_balances
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));

revoke all on table public.account_balances from anon, authenticated, service_role;
grant select on table public.account_balances to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- payment_methods
-- ---------------------------------------------------------------------------
create table if not exists public.payment_methods (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  method_type text not null,
  provider text not null,
  provider_reference text not null,
  label text,
  last4 text,
  expires_on date,
  is_default boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint payment_methods_method_type_check check (method_type in ('card', 'mobile_money', 'bank_account', 'wallet')),
  constraint payment_methods_provider_check check (provider ~ '^[a-z0-9_]{2,40}$'),
  constraint payment_methods_provider_reference_check check (char_length(provider_reference) between 1 and 255),
  constraint payment_methods_label_check check (char_length(label) <= 100),
  constraint payment_methods_last4_check check (last4 ~ '^[0-9]{4}$'),
  constraint payment_methods_provider_reference_key unique (provider, provider_reference)
);

comment on table public.payment_methods is
  'A user''s saved payment methods (seed 004). Holds the provider''s reusable reference (Stripe pm_..., a mobile-money account id), never a card number or PIN. Added by the service role after the provider tokenises; users list, delete and choose a default.';

create index if not exists payment_methods_user_id_idx on public.payment_methods (user_id);
create unique index if not exists payment_methods_one_default_idx on public.payment_methods (user_id) where is_default;

alter table public.payment_methods enable row level security;

create policy payment_methods_select on public.payment_methods
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));

create policy payment_methods_update on public.payment_methods
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));

create policy payment_methods_delete on public.payment_methods
  for delete to authenticated
  using (user_id = (select auth.uid()));

revoke all on table public.payment_methods from anon, authenticated, service_role;
grant select, delete on table public.payment_methods to authenticated;
grant update (label, is_default) on table public.payment_methods to authenticated;
grant select, insert, update, delete on table public.payment_methods to service_role;

create trigger payment_methods_set_updated_at
  before update of method_type, provider, provider_reference, label, last4, expires_on, is_default on public.payment_methods
  for each row execute function private.set_updated_at();

-- ---------------------------------------------------------------------------
-- create_transaction
-- ---------------------------------------------------------------------------
create or replace function private.create_transaction(
  p_user_id uuid,
  p_type text,
  p_amount numeric,
  p_currency text,
  p_idempotency_key text
)
returns public.transactions
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  -- private.is_service_role(), inline (a call to it cannot be inlined)
  v_is_service boolean := coalesce(auth.jwt() ->> 'role' = 'service_role', false);
  v_uid uuid := auth.uid();
  v_now timestamptz := pg_catalog.now();
  -- private.uuid_v7(), inline: time-ordered, so new ids land on the right edge
  -- of the primary keys instead of random pages
  v_id uuid := pg_catalog.encode(
    pg_catalog.set_bit(pg_catalog.set_bit(
      pg_catalog.overlay(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()),
        pg_catalog.substr(pg_catalog.int8send(pg_catalog.floor(extract(epoch from pg_catalog.clock_timestamp()) * 1000)::bigint), 3),
        1, 6),
      52, 1), 53, 1),
    'hex')::uuid;
  v_tx public.transactions;
begin
  -- Who: the service role for anyone; a user only as themselves.
  if not v_is_service then
    if v_uid is null then
      raise exception 'you must be signed in' using errcode = '42501';
    end if;
    if p_user_id is distinct from v_uid then
      raise exception 'p_user_id must be your own user id' using errcode = '42501';
    end if;
  end if;

  if p_user_id is null then
    raise exception 'invalid p_user_id: required' using errcode = '22023';
  end if;
  if p_type is null or p_type not in ('credit', 'debit') then
    raise exception 'invalid p_type: must be credit or debit' using errcode = '22023';
  end if;
  if p_amount is null or p_amount <= 0 or p_amount >= 1e16 or p_amount <> pg_catalog.round(p_amount, 4) then
    raise exception 'invalid p_amount: must be positive, below 10^16, with at most 4 decimal places' using errcode = '22023';
  end if;
  if p_currency is null or p_currency !~ '^[A-Z]{3}$' then
    raise exception 'invalid p_currency: must be an ISO 4217 code such as USD' using errcode = '22023';
  end if;
  if p_idempotency_key is not null and (char_length(p_idempotency_key) not between 1 and 255 or p_idempotency_key ~ '[[:cntrl:]]') then
    raise exception 'invalid p_idempotency_key: 1 to 255 printable characters' using errcode = '22023';
  end if;
  if v_is_service and not exists (select 1 from auth.users as u where u.id = p_user_id) then
    raise exception 'no user with id %', p_user_id using errcode = '23503';
  end if;

  if p_idempotency_key is not null then
    -- Claim the key. A concurrent request with the same key waits here until
    -- the first commits (then does nothing) or rolls back (then inserts).
    insert into private.transaction_idempotency_keys (user_id, idempotency_key, transaction_id, transaction_created_at)
    values (p_user_id, p_idempotency_key, v_id, v_now)
    on conflict (user_id, idempotency_key) do nothing;

    if not found then
      -- A replay: the transaction this key created (its created_at prunes to one partition).
      select t.* into v_tx
        from private.transaction_idempotency_keys as k
        join public.transactions as t on t.id = k.transaction_id and t.created_at = k.transaction_created_at
       where k.user_id = p_user_id and k.idempotency_key = p_idempotency_key;
      if v_tx.type <> p_type or v_tx.amount <> p_amount or v_tx.currency <> p_currency then
        raise exception 'idempotency key "%" was already used with different parameters', p_idempotency_key
          using errcode = 'PT409',
                hint = 'Send the same type, amount and currency as the first request, or use a new key.';
      end if;
      return v_tx;
    end if;
  end if;

  -- A debit holds the amount now, in one conditional statement: concurrent
  -- debits queue on the balance row and each re-checks the balance it finds.
  if p_type = 'debit' then
    update public.account_balances as b
       set balance = b.balance - p_amount, updated_at = v_now
     where b.user_id = p_user_id and b.currency = p_currency and b.balance >= p_amount;
    if not found then
      raise exception 'insufficient funds: the % balance is below %', p_currency, p_amount using errcode = 'PT409';
    end if;
  end if;

  -- The transaction and its creation event in one statement.
  with event as (
    insert into public.transaction_events (created_at, transaction_id, user_id, from_status, to_status, actor_id, actor_role)
    values (v_now, v_id, p_user_id, null, 'pending', case when v_is_service then null else v_uid end,
            case when v_is_service then 'service_role' else 'authenticated' end)
  )
  insert into public.transactions (id, created_at, user_id, type, amount, currency, status, idempotency_key, updated_at)
  values (v_id, v_now, p_user_id, p_type, p_amount, p_currency, 'pending', p_idempotency_key, v_now)
  returning * into v_tx;

  return v_tx;
end;
$$;

comment on function private.create_transaction(uuid, text, numeric, text, text) is
  'Creates a pending transaction (debits hold the amount), or returns the one created earlier with the same idempotency key.';

create or replace function public.create_transaction(
  p_user_id uuid,
  p_type text,
  p_amount numeric,
  p_currency text,
  p_idempotency_key text default null
)
returns public.transactions
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  -- plpgsql rather than sql: the call's plan is cached for the session
  return private.create_transaction(p_user_id, p_type, p_amount, p_currency, p_idempotency_key);
end;
$$;

comment on function public.create_transaction(uuid, text, numeric, text, text) is
  'Seed 004. Creates a pending credit or debit for p_user_id (your own id; any user for the service role). A debit holds the amount at once. The same idempotency key returns the same transaction; with other parameters it is an error. Errors: 22023 invalid input, 42501 not signed in or another user''s id, 23503 unknown user, PT409 insufficient funds or key reused with different parameters.';

-- ---------------------------------------------------------------------------
-- update_transaction_status
-- ---------------------------------------------------------------------------
create or replace function private.transaction_transition_allowed(p_from text, p_to text)
returns boolean
language sql
immutable
security invoker
set search_path = ''
as $$
  select (p_from, p_to) in (
    ('pending', 'processing'), ('pending', 'completed'), ('pending', 'failed'), ('pending', 'cancelled'),
    ('processing', 'completed'), ('processing', 'failed'), ('processing', 'cancelled'),
    ('completed', 'refunded')
  );
$$;

comment on function private.transaction_transition_allowed(text, text) is
  'The transaction lifecycle: pending -> processing | completed | failed | cancelled; processing -> completed | failed | cancelled; completed -> refunded. Failed, cancelled and refunded are final.';

create or replace function private.update_transaction_status(p_transaction_id uuid, p_new_status text)
returns public.transactions
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  -- private.is_service_role(), inline (a call to it cannot be inlined)
  v_is_service boolean := coalesce(auth.jwt() ->> 'role' = 'service_role', false);
  v_uid uuid := auth.uid();
  v_now timestamptz := pg_catalog.now();
  v_tx public.transactions;
  v_old_status text;
  v_delta numeric := 0;
begin
  if not v_is_service and v_uid is null then
    raise exception 'you must be signed in' using errcode = '42501';
  end if;
  if p_new_status is null or p_new_status not in ('pending', 'processing', 'completed', 'failed', 'cancelled', 'refunded') then
    raise exception 'invalid p_new_status: must be one of pending, processing, completed, failed, cancelled, refunded'
      using errcode = '22023';
  end if;

  select * into v_tx from public.transactions as t where t.id = p_transaction_id for update;
  if v_tx.id is null or (not v_is_service and v_tx.user_id <> v_uid and not public.is_current_user_admin()) then
    raise exception 'transaction % not found', p_transaction_id using errcode = 'PT404';
  end if;

  -- A repeated call (a webhook delivered twice) changes nothing.
  if v_tx.status = p_new_status then
    return v_tx;
  end if;
  if not private.transaction_transition_allowed(v_tx.status, p_new_status) then
    raise exception 'invalid status transition: % -> %', v_tx.status, p_new_status using errcode = 'PT409';
  end if;
  -- Users may only cancel their own pending transactions; everything else is
  -- the payment backend's (service role). Admins see every transaction, so
  -- they are told no rather than not found.
  if not v_is_service and not (v_tx.user_id = v_uid and v_tx.status = 'pending' and p_new_status = 'cancelled') then
    raise exception 'only the service role may set a transaction to %', p_new_status using errcode = '42501';
  end if;

  v_old_status := v_tx.status;

  -- Balance effects of the change.
  if v_tx.type = 'credit' and p_new_status = 'completed' then
    v_delta := v_tx.amount;
  elsif v_tx.type = 'credit' and p_new_status = 'refunded' then
    v_delta := -v_tx.amount;
  elsif v_tx.type = 'debit' and p_new_status in ('failed', 'cancelled', 'refunded') then
    v_delta := v_tx.amount;  -- release the hold / give the money back
  end if;

  if v_delta > 0 then
    insert into public.account_balances as b (user_id, currency, balance, updated_at)
    values (v_tx.user_id, v_tx.currency, v_delta, v_now)
    on conflict (user_id, currency) do update set balance = b.balance + excluded.balance, updated_at = excluded.updated_at;
  elsif v_delta < 0 then
    update public.account_balances as b
       set balance = b.balance + v_delta, updated_at = v_now
     where b.user_id = v_tx.user_id and b.currency = v_tx.currency and b.balance >= -v_delta;
    if not found then
      raise exception 'insufficient funds: refunding this credit would make the % balance negative', v_tx.currency
        using errcode = 'PT409';
    end if;
  end if;

  update public.transactions as t
     set status = p_new_status,
         updated_at = v_now,
         completed_at = case when p_new_status = 'completed' then v_now else t.completed_at end
   where t.id = v_tx.id and t.created_at = v_tx.created_at
  returning * into v_tx;

  insert into public.transaction_events (created_at, transaction_id, user_id, from_status, to_status, actor_id, actor_role)
  values (v_now, v_tx.id, v_tx.user_id, v_old_status, p_new_status, case when v_is_service then null else v_uid end,
          case when v_is_service then 'service_role' else 'authenticated' end);

  return v_tx;
end;
$$;

comment on function private.update_transaction_status(uuid, text) is
  'Moves a transaction along its lifecycle under a row lock, applies the balance effect and records the event.';

create or replace function public.update_transaction_status(p_transaction_id uuid, p_new_status text)
returns public.transactions
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  return private.update_transaction_status(p_transaction_id, p_new_status);
end;
$$;

comment on function public.update_transaction_status(uuid, text) is
  'Seed 004. Changes a transaction''s status along pending -> processing -> completed | failed | cancelled, completed -> refunded; the same status again is a no-op. Completing a credit adds to the balance; failing, cancelling or refunding a debit gives the hold back; refunding a credit takes it back. Users may only cancel their own pending transactions; other changes are for the service role. Errors: 22023 unknown status, PT404 not found, PT409 transition not allowed or insufficient funds, 42501 not allowed.';

-- ---------------------------------------------------------------------------
-- set_default_payment_method
-- ---------------------------------------------------------------------------
create or replace function public.set_default_payment_method(p_payment_method_id uuid)
returns public.payment_methods
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_pm public.payment_methods;
begin
  if v_uid is null then
    raise exception 'you must be signed in' using errcode = '42501';
  end if;
  -- Serialise default changes per user so the partial unique index never
  -- sees two defaults from racing calls.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('payment_methods_default'), pg_catalog.hashtext(v_uid::text));
  if not exists (select 1 from public.payment_methods as p where p.id = p_payment_method_id and p.user_id = v_uid) then
    raise exception 'payment method % not found', p_payment_method_id using errcode = 'PT404';
  end if;
  update public.payment_methods as p set is_default = false where p.user_id = v_uid and p.is_default and p.id <> p_payment_method_id;
  update public.payment_methods as p set is_default = true where p.id = p_payment_method_id and p.user_id = v_uid
  returning * into v_pm;
  return v_pm;
end;
$$;

comment on function public.set_default_payment_method(uuid) is
  'Makes one of the caller''s payment methods their default (and no other). Errors: PT404 not found, 42501 not signed in.';

revoke execute on function private.create_transaction(uuid, text, numeric, text, text) from public, anon, authenticated, service_role;
revoke execute on function public.create_transaction(uuid, text, numeric, text, text) from public, anon, authenticated, service_role;
revoke execute on function private.transaction_transition_allowed(text, text) from public, anon, authenticated, service_role;
revoke execute on function private.update_transaction_status(uuid, text) from public, anon, authenticated, service_role;
revoke execute on function public.update_transaction_status(uuid, text) from public, anon, authenticated, service_role;
revoke execute on function public.set_default_payment_method(uuid) from public, anon, authenticated, service_role;
grant execute on function private.create_transaction(uuid, text, numeric, text, text) to authenticated, service_role;
grant execute on function public.create_transaction(uuid, text, numeric, text, text) to authenticated, service_role;
grant execute on function private.update_transaction_status(uuid, text) to authenticated, service_role;
grant execute on function public.update_transaction_status(uuid, text) to authenticated, service_role;
grant execute on function public.set_default_payment_method(uuid) to authenticated;
