-- Edge: what the edge functions (supabase/functions/) call. The functions stay
-- thin: each one validates its request and makes one RPC; the state and the
-- decisions live here.
--
-- Seeds: 001 "Health Checks" (`/api/health`: status healthy|degraded|unhealthy,
-- timestamp, checks: database, cache) plus the queue backlog ->
-- public.health_check(); 001 "User plan ... On membership change (Whop
-- webhook)" and the `membership/updated` job -> the webhook inbox and
-- public.ingest_webhook_event(). Mapping and choices: docs/functions.md.

-- ---------------------------------------------------------------------------
-- Health
-- ---------------------------------------------------------------------------

-- Definer: reading the CLI's migration history and pg_cron's run log needs
-- rights the service role does not have. Returns facts only, no secrets.
create or replace function private.health_snapshot()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_latest text;
  v_applied integer;
  v_failed_jobs text[];
  v_jobs integer;
  v_now timestamptz := pg_catalog.now();
  v_ready bigint;
  v_oldest_ready timestamptz;
  v_lease_expired bigint;
  v_hits bigint;
  v_misses bigint;
  v_worker public.system_metrics;
begin
  select max(m.version), count(*)::integer
    into v_latest, v_applied
    from supabase_migrations.schema_migrations as m;

  -- Scheduled jobs whose latest run failed (partition maintenance and later
  -- domains' jobs): the API still works, so this degrades, never fails.
  select coalesce(array_agg(s.jobname order by s.jobname) filter (where s.last_status = 'failed'), '{}'),
         count(*)::integer
    into v_failed_jobs, v_jobs
    from private.scheduled_job_status as s
   where s.active;

  -- Queue backlog (the platform domain's job queues): ready jobs, how long
  -- the oldest has waited, and leases that ran out (a worker died). The
  -- partial indexes on queued and active jobs answer these.
  select count(*), min(j.run_at)
    into v_ready, v_oldest_ready
    from private.jobs as j
   where j.status = 'queued' and j.run_at <= v_now;
  select count(*) into v_lease_expired
    from private.jobs as j
   where j.status = 'active' and j.locked_until <= v_now;

  -- The worker's last run (supabase/functions/worker records each as the
  -- metric worker.run): when, how long, and its outcome. The series index
  -- (service_name, metric_name, recorded_at desc) answers it.
  select m.* into v_worker
    from public.system_metrics as m
   where m.service_name = 'worker' and m.metric_name = 'worker.run'
   order by m.recorded_at desc
   limit 1;

  -- Cache: hits and misses since the last restart (unlogged sequences), read
  -- without scanning the entries.
  select case when h.is_called then h.last_value else 0 end into v_hits from private.cache_hits as h;
  select case when m.is_called then m.last_value else 0 end into v_misses from private.cache_misses as m;

  return jsonb_build_object(
    'database', jsonb_build_object(
      'status', 'ok',
      'server_version', pg_catalog.current_setting('server_version_num')::integer,
      'in_recovery', pg_catalog.pg_is_in_recovery()),
    'migrations', jsonb_build_object(
      'status', case when v_applied > 0 then 'ok' else 'error' end,
      'latest', v_latest,
      'applied', v_applied),
    'scheduled_jobs', jsonb_build_object(
      'status', case when cardinality(v_failed_jobs) = 0 then 'ok' else 'degraded' end,
      'active', v_jobs,
      'failing', to_jsonb(v_failed_jobs)),
    'queue', jsonb_build_object(
      -- a backlog older than five minutes, or a job whose worker vanished
      'status', case when v_oldest_ready < v_now - interval '5 minutes' or v_lease_expired > 0 then 'degraded' else 'ok' end,
      'ready', v_ready,
      -- a run time of -infinity (or any extreme one) must not break the
      -- report: the age is measured in numeric epoch seconds, never as an interval
      'oldest_ready_age_seconds', case
        when v_oldest_ready is null then 0
        when not pg_catalog.isfinite(v_oldest_ready) then null
        else pg_catalog.floor(extract(epoch from v_now) - extract(epoch from v_oldest_ready)) end,
      'lease_expired', v_lease_expired,
      'worker_last_run_at', v_worker.recorded_at,
      'worker_last_run_ms', v_worker.value,
      'worker_last_outcome', v_worker.tags ->> 'outcome'),
    'cache', jsonb_build_object(
      'status', 'ok',
      'hits', v_hits,
      'misses', v_misses,
      'hit_rate', pg_catalog.round(v_hits::numeric / nullif(v_hits + v_misses, 0), 4))
  );
end;
$$;

comment on function private.health_snapshot() is
  'Facts for the health endpoint: database reachable, applied migrations, scheduled jobs whose last run failed, queue backlog (with the worker''s last run), cache hits. No secrets.';

create or replace function public.health_check()
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select private.health_snapshot();
$$;

comment on function public.health_check() is
  'Health of the backend as seen from the database (seed 001 /api/health checks): {database, migrations, scheduled_jobs, queue, cache}, each with a status of ok, degraded or error. Service role only: the health edge function shows anyone the statuses and only a service the figures.';

revoke execute on function private.health_snapshot() from public, anon, authenticated, service_role;
revoke execute on function public.health_check() from public, anon, authenticated, service_role;
grant execute on function private.health_snapshot() to service_role;
grant execute on function public.health_check() to service_role;

-- ---------------------------------------------------------------------------
-- Webhook inbox: every verified delivery, once per (provider, webhook id).
-- ---------------------------------------------------------------------------
create table if not exists private.webhook_events (
  id bigint generated always as identity primary key,
  provider text not null,
  webhook_id text not null,
  event_type text not null,
  occurred_at timestamptz,
  received_at timestamptz not null default pg_catalog.now(),
  payload jsonb not null,
  outcome text not null,
  outcome_detail text,
  user_id uuid references auth.users (id) on delete set null,
  constraint webhook_events_provider_webhook_id_key unique (provider, webhook_id),
  constraint webhook_events_provider_format check (provider ~ '^[a-z][a-z0-9_]{0,31}$'),
  constraint webhook_events_webhook_id_length check (char_length(webhook_id) between 1 and 200),
  constraint webhook_events_event_type_length check (char_length(event_type) between 1 and 200),
  constraint webhook_events_outcome check (outcome in ('applied', 'ignored', 'stored')),
  constraint webhook_events_occurred_at_check check (pg_catalog.isfinite(occurred_at))
);

comment on table private.webhook_events is
  'Inbox of verified payment-provider webhook deliveries, unique on (provider, webhook_id): a redelivery is a no-op. outcome says what applying it did.';
comment on column private.webhook_events.webhook_id is 'The Standard Webhooks `webhook-id` header: stable across retries, the idempotency key.';
comment on column private.webhook_events.occurred_at is 'When the provider says the event happened (payload timestamp); orders membership changes.';
comment on column private.webhook_events.outcome is
  'applied: changed state; ignored: understood but older than the state it would change, or for an unknown user; stored: event type we do not act on (acknowledged and kept).';

create index if not exists webhook_events_user_id_idx on private.webhook_events (user_id);
create index if not exists webhook_events_received_at_idx on private.webhook_events (received_at);

alter table private.webhook_events enable row level security;
revoke all on table private.webhook_events from anon, authenticated, service_role;

-- The provider's membership as we last applied it: the plan the user is
-- entitled to through it, and the event time that set it (out-of-order
-- deliveries older than that are ignored).
create table if not exists private.provider_memberships (
  provider text not null,
  membership_id text not null,
  user_id uuid not null references auth.users (id) on delete cascade,
  status text not null,
  provider_plan_id text,
  entitled_plan text not null,
  valid boolean not null,
  last_event_at timestamptz not null,
  last_webhook_id text not null,
  updated_at timestamptz not null default pg_catalog.now(),
  primary key (provider, membership_id),
  constraint provider_memberships_last_event_at_check check (pg_catalog.isfinite(last_event_at))
);

comment on table private.provider_memberships is
  'Each payment-provider membership as last applied from a webhook: whether it is valid, the plan it grants, and the event time that set it.';
comment on column private.provider_memberships.entitled_plan is 'The plan this membership grants while valid (from private.provider_plans); basic once invalid.';

create index if not exists provider_memberships_user_id_idx on private.provider_memberships (user_id);

alter table private.provider_memberships enable row level security;
revoke all on table private.provider_memberships from anon, authenticated, service_role;

-- Which of our plans a provider's plan id grants. Admins and the service role
-- fill it with public.set_provider_plan (below); an unmapped plan grants
-- nothing and is reported in the inbox.
create table if not exists private.provider_plans (
  provider text not null,
  provider_plan_id text not null,
  plan text not null,
  created_at timestamptz not null default pg_catalog.now(),
  updated_at timestamptz not null default pg_catalog.now(),
  primary key (provider, provider_plan_id),
  constraint provider_plans_plan_fkey foreign key (plan) references public.plans (plan_name),
  constraint provider_plans_provider_format check (provider ~ '^[a-z][a-z0-9_]{0,31}$'),
  constraint provider_plans_provider_plan_id_format check (char_length(provider_plan_id) between 1 and 200 and provider_plan_id !~ '[[:cntrl:]]')
);

comment on table private.provider_plans is
  'Maps a payment provider''s plan id (e.g. Whop plan_...) to the plan it grants here (basic, pro, enterprise). Written through set_provider_plan / remove_provider_plan; every change is in system_audit_logs.';

create index if not exists provider_plans_plan_idx on private.provider_plans (plan);

alter table private.provider_plans enable row level security;
revoke all on table private.provider_plans from anon, authenticated, service_role;

-- Every mapping change is a row change in the audit trail (actor: the admin,
-- the service role or the SQL session), like the admin domain's configuration.
select private.enable_audit('private.provider_plans', array['updated_at']);

create table if not exists private.provider_payments (
  provider text not null,
  payment_id text not null,
  user_id uuid references auth.users (id) on delete set null,
  membership_id text,
  status text not null,
  amount numeric(14, 4),
  currency text,
  last_event_at timestamptz not null,
  last_webhook_id text not null,
  primary key (provider, payment_id),
  constraint provider_payments_amount_check check (amount >= 0 and amount not in ('NaN', 'Infinity', '-Infinity')),
  constraint provider_payments_currency_check check (currency ~ '^[A-Za-z]{3}$'),
  constraint provider_payments_last_event_at_check check (pg_catalog.isfinite(last_event_at))
);

comment on table private.provider_payments is
  'Payments reported by the provider''s webhooks (payment.succeeded / payment.failed), latest status per payment.';

create index if not exists provider_payments_user_id_idx on private.provider_payments (user_id);

alter table private.provider_payments enable row level security;
revoke all on table private.provider_payments from anon, authenticated, service_role;

-- ---------------------------------------------------------------------------
-- Applying events
-- ---------------------------------------------------------------------------

-- A scalar field of a provider object as text: absent or JSON null gives
-- null; a string or number of 1 to p_max_chars characters is returned as
-- text; anything else (an object, an array, an endless string) is a
-- malformed event (22023, the webhook answers 400).
create or replace function private.webhook_field(p_value jsonb, p_name text, p_max_chars integer default 200)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  if p_value is null or pg_catalog.jsonb_typeof(p_value) = 'null' then
    return null;
  end if;
  if pg_catalog.jsonb_typeof(p_value) not in ('string', 'number')
     or pg_catalog.char_length(p_value #>> '{}') not between 1 and p_max_chars then
    raise exception 'invalid webhook payload: % must be a string of 1 to % characters', p_name, p_max_chars
      using errcode = '22023';
  end if;
  return p_value #>> '{}';
end;
$$;

comment on function private.webhook_field(jsonb, text, integer) is
  'A webhook object''s scalar field as text (null when absent); 22023 when it is not a string or number of 1 to p_max_chars characters.';

-- The amount of a provider payment: a finite, non-negative number below 10^10
-- (what provider_payments.amount holds), else 22023.
create or replace function private.webhook_amount(p_data jsonb)
returns numeric
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
  v_text text := coalesce(private.webhook_field(p_data -> 'total', 'data.total', 40),
                          private.webhook_field(p_data -> 'final_amount', 'data.final_amount', 40),
                          private.webhook_field(p_data -> 'amount', 'data.amount', 40));
  v_amount numeric;
begin
  begin
    v_amount := v_text::numeric;
  exception when invalid_text_representation then
    raise exception 'invalid webhook payload: payment amount is not a number' using errcode = '22023';
  end;
  -- numeric accepts 'NaN' and 'Infinity' as text, and NaN passes a "not negative" test
  if v_amount in ('NaN', 'Infinity', '-Infinity') then
    raise exception 'invalid webhook payload: payment amount must be a finite number' using errcode = '22023';
  end if;
  if v_amount < 0 or v_amount >= 1e10 then
    raise exception 'invalid webhook payload: payment amount must be between 0 and 10^10' using errcode = '22023';
  end if;
  return v_amount;
end;
$$;

comment on function private.webhook_amount(jsonb) is
  'The payment amount of a webhook payment object (total, final_amount or amount): null when absent; 22023 unless a finite number in [0, 10^10).';

-- Our user for a provider object: the id our checkout put in its metadata,
-- else the auth user with the provider user's email, but only once that
-- address is confirmed: anyone can sign up with an address they do not own,
-- and must not receive the plan its owner pays for.
create or replace function private.webhook_user_id(p_data jsonb)
returns uuid
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_id text := coalesce(private.webhook_field(p_data -> 'metadata' -> 'user_id', 'data.metadata.user_id'),
                        private.webhook_field(p_data -> 'metadata' -> 'supabase_user_id', 'data.metadata.supabase_user_id'));
  v_email text := coalesce(private.webhook_field(p_data -> 'user' -> 'email', 'data.user.email', 320),
                           private.webhook_field(p_data -> 'email', 'data.email', 320));
  v_uid uuid;
begin
  if v_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    select u.id into v_uid from auth.users as u where u.id = v_id::uuid;
    if v_uid is not null then
      return v_uid;
    end if;
  end if;
  if v_email is not null then
    select u.id into v_uid
      from auth.users as u
     where lower(u.email) = lower(v_email)
       and u.email_confirmed_at is not null
       and not u.is_sso_user
       and u.deleted_at is null;
  end if;
  return v_uid;
end;
$$;

comment on function private.webhook_user_id(jsonb) is
  'Resolves the auth user a webhook object belongs to: metadata.user_id (set at checkout), else the user with that email when the address is confirmed (email_confirmed_at); null otherwise.';

create or replace function private.apply_membership_event(
  p_provider text,
  p_webhook_id text,
  p_valid boolean,
  p_data jsonb,
  p_occurred_at timestamptz
)
returns table (outcome text, detail text, user_id uuid)
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_membership_id text := private.webhook_field(p_data -> 'id', 'data.id');
  v_plan_id text := coalesce(private.webhook_field(p_data -> 'plan' -> 'id', 'data.plan.id'),
                             private.webhook_field(p_data -> 'plan_id', 'data.plan_id'));
  v_status text := private.webhook_field(p_data -> 'status', 'data.status', 50);
  v_uid uuid := private.webhook_user_id(p_data);
  v_plan text;
  v_user_plan text;
  v_rows integer;
begin
  if v_membership_id is null then
    raise exception 'invalid webhook payload: membership event without data.id'
      using errcode = '22023';
  end if;
  if v_uid is null then
    return query select 'ignored', 'no user matches the membership''s metadata.user_id or email', null::uuid;
    return;
  end if;

  if p_valid then
    select pp.plan into v_plan
      from private.provider_plans as pp
     where pp.provider = p_provider and pp.provider_plan_id = v_plan_id;
    if v_plan is null then
      return query select 'ignored', format('plan %s is not mapped in private.provider_plans', coalesce(v_plan_id, '(none)')), v_uid;
      return;
    end if;
  else
    v_plan := 'basic';
  end if;

  -- One membership change per user at a time: the user's plan below is
  -- computed from all their memberships, which a concurrent event for
  -- another of them could otherwise change unseen.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('membership:' || v_uid::text, 0));

  -- One statement: insert, or update only when this event is newer than the
  -- one that set the current state (deliveries come in any order).
  insert into private.provider_memberships as m
         (provider, membership_id, user_id, status, provider_plan_id, entitled_plan, valid, last_event_at, last_webhook_id)
  values (p_provider, v_membership_id, v_uid, coalesce(v_status, case when p_valid then 'active' else 'expired' end),
          v_plan_id, v_plan, p_valid, p_occurred_at, p_webhook_id)
  on conflict (provider, membership_id) do update
     set user_id = excluded.user_id,
         status = excluded.status,
         provider_plan_id = coalesce(excluded.provider_plan_id, m.provider_plan_id),
         entitled_plan = excluded.entitled_plan,
         valid = excluded.valid,
         last_event_at = excluded.last_event_at,
         last_webhook_id = excluded.last_webhook_id,
         updated_at = pg_catalog.now()
   where m.last_event_at <= excluded.last_event_at;
  get diagnostics v_rows = row_count;
  if v_rows = 0 then
    return query select 'ignored', 'older than the membership''s current state', v_uid;
    return;
  end if;

  -- The user's plan: the highest tier any of their valid memberships grants,
  -- else basic (ending one membership keeps what another still grants).
  select m.entitled_plan into v_user_plan
    from private.provider_memberships as m
    join public.plans as p on p.plan_name = m.entitled_plan
   where m.user_id = v_uid and m.valid
   order by p.tier desc
   limit 1;
  perform public.set_user_plan(p_user_id => v_uid, p_plan_name => coalesce(v_user_plan, 'basic'));

  -- Seed 001 "invalidate membership on plan change": anything cached under
  -- the user's membership tag (the platform cache) is stale from now on.
  perform public.invalidate_cache_by_tag('membership:' || v_uid::text);
  return query select 'applied', format('membership %s: plan %s', case when p_valid then 'valid' else 'invalid' end, v_plan), v_uid;
end;
$$;

comment on function private.apply_membership_event(text, text, boolean, jsonb, timestamptz) is
  'Applies a membership activated/went_valid (p_valid) or deactivated/went_invalid event: records the membership and the plan it grants (events older than the stored state are ignored), sets the user''s plan to the highest one their valid memberships grant (else basic) with set_user_plan, and invalidates the cache tag membership:<user id>.';

create or replace function private.apply_payment_event(
  p_provider text,
  p_webhook_id text,
  p_status text,
  p_data jsonb,
  p_occurred_at timestamptz
)
returns table (outcome text, detail text, user_id uuid)
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_payment_id text := private.webhook_field(p_data -> 'id', 'data.id');
  v_membership_id text := coalesce(private.webhook_field(p_data -> 'membership' -> 'id', 'data.membership.id'),
                                   private.webhook_field(p_data -> 'membership_id', 'data.membership_id'));
  v_currency text := private.webhook_field(p_data -> 'currency', 'data.currency', 3);
  v_amount numeric := private.webhook_amount(p_data);
  v_uid uuid := private.webhook_user_id(p_data);
  v_rows integer;
begin
  if v_payment_id is null then
    raise exception 'invalid webhook payload: payment event without data.id' using errcode = '22023';
  end if;
  if v_currency !~ '^[A-Za-z]{3}$' then
    raise exception 'invalid webhook payload: data.currency must be a three-letter ISO 4217 code' using errcode = '22023';
  end if;

  insert into private.provider_payments as p
         (provider, payment_id, user_id, membership_id, status, amount, currency, last_event_at, last_webhook_id)
  values (p_provider, v_payment_id, v_uid, v_membership_id,
          p_status, v_amount, v_currency, p_occurred_at, p_webhook_id)
  on conflict (provider, payment_id) do update
     set status = excluded.status,
         user_id = coalesce(excluded.user_id, p.user_id),
         amount = coalesce(excluded.amount, p.amount),
         currency = coalesce(excluded.currency, p.currency),
         last_event_at = excluded.last_event_at,
         last_webhook_id = excluded.last_webhook_id
   where p.last_event_at <= excluded.last_event_at;
  get diagnostics v_rows = row_count;
  if v_rows = 0 then
    return query select 'ignored', 'older than the payment''s current state', v_uid;
    return;
  end if;
  return query select 'applied', format('payment %s', p_status), v_uid;
end;
$$;

comment on function private.apply_payment_event(text, text, text, jsonb, timestamptz) is
  'Records a payment.succeeded / payment.failed event (latest status per payment, older deliveries ignored).';

create or replace function private.ingest_webhook_event(
  p_provider text,
  p_webhook_id text,
  p_event_type text,
  p_payload jsonb,
  p_occurred_at timestamptz
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_event_id bigint;
  v_existing private.webhook_events;
  v_data jsonb := p_payload -> 'data';
  v_occurred_at timestamptz := coalesce(p_occurred_at, pg_catalog.now());
  v_result record;
begin
  if p_provider is null or p_provider !~ '^[a-z][a-z0-9_]{0,31}$' then
    raise exception 'invalid provider: must be 1 to 32 lowercase letters, digits or underscores'
      using errcode = '22023';
  end if;
  if p_webhook_id is null or char_length(p_webhook_id) not between 1 and 200 then
    raise exception 'invalid webhook id: must be 1 to 200 characters' using errcode = '22023';
  end if;
  if p_event_type is null or char_length(p_event_type) not between 1 and 200 then
    raise exception 'invalid event type: must be 1 to 200 characters' using errcode = '22023';
  end if;
  if p_payload is null or jsonb_typeof(p_payload) <> 'object' then
    raise exception 'invalid webhook payload: must be a JSON object' using errcode = '22023';
  end if;
  perform private.require_json_size(p_payload, 'webhook payload', 262144);
  -- The event time orders a membership's changes: a time far ahead would
  -- make every later real event look older and be ignored; an infinite one
  -- breaks any arithmetic over the column.
  perform private.require_time_between(p_occurred_at, 'p_occurred_at',
    pg_catalog.now() - private.user_time_horizon(), pg_catalog.now() + private.user_time_skew());

  -- The inbox row first: a concurrent duplicate waits here on the unique
  -- index and then finds the row, so only one delivery applies the event.
  insert into private.webhook_events (provider, webhook_id, event_type, occurred_at, payload, outcome)
  values (p_provider, p_webhook_id, p_event_type, p_occurred_at, p_payload, 'stored')
  on conflict (provider, webhook_id) do nothing
  returning id into v_event_id;

  if v_event_id is null then
    select e.* into v_existing
      from private.webhook_events as e
     where e.provider = p_provider and e.webhook_id = p_webhook_id;
    return jsonb_build_object('event_id', v_existing.id, 'duplicate', true,
                              'outcome', v_existing.outcome, 'detail', v_existing.outcome_detail);
  end if;

  if jsonb_typeof(v_data) is distinct from 'object'
     and p_event_type in ('membership.activated', 'membership.went_valid', 'membership.deactivated',
                          'membership.went_invalid', 'payment.succeeded', 'payment.failed') then
    raise exception 'invalid webhook payload: % without a data object', p_event_type using errcode = '22023';
  end if;

  case p_event_type
    when 'membership.activated', 'membership.went_valid' then
      select * into v_result from private.apply_membership_event(p_provider, p_webhook_id, true, v_data, v_occurred_at);
    when 'membership.deactivated', 'membership.went_invalid' then
      select * into v_result from private.apply_membership_event(p_provider, p_webhook_id, false, v_data, v_occurred_at);
    when 'payment.succeeded' then
      select * into v_result from private.apply_payment_event(p_provider, p_webhook_id, 'succeeded', v_data, v_occurred_at);
    when 'payment.failed' then
      select * into v_result from private.apply_payment_event(p_provider, p_webhook_id, 'failed', v_data, v_occurred_at);
    else
      select 'stored' as outcome, 'event type not acted on' as detail, null::uuid as user_id into v_result;
  end case;

  update private.webhook_events as e
     set outcome = v_result.outcome, outcome_detail = v_result.detail, user_id = v_result.user_id
   where e.id = v_event_id;

  return jsonb_build_object('event_id', v_event_id, 'duplicate', false,
                            'outcome', v_result.outcome, 'detail', v_result.detail);
end;
$$;

comment on function private.ingest_webhook_event(text, text, text, jsonb, timestamptz) is
  'Stores a verified webhook delivery in the inbox (once per provider and webhook id) and applies it, in one transaction.';

create or replace function public.ingest_webhook_event(
  p_provider text,
  p_webhook_id text,
  p_event_type text,
  p_payload jsonb,
  p_occurred_at timestamptz default null
)
returns jsonb
language sql
volatile
security invoker
set search_path = ''
as $$
  select private.ingest_webhook_event(p_provider, p_webhook_id, p_event_type, p_payload, p_occurred_at);
$$;

comment on function public.ingest_webhook_event(text, text, text, jsonb, timestamptz) is
  'Service role only (the webhook edge function, after verifying the signature): stores the event once per (provider, webhook id) and applies it — membership activated/went_valid grants the mapped plan (set_user_plan), deactivated/went_invalid returns to basic unless another valid membership grants more, payments are recorded, other types are stored. Returns {event_id, duplicate, outcome, detail}; a redelivery returns duplicate = true and changes nothing. The user is metadata.user_id, else the owner of the email only when the address is confirmed. 22023 on a malformed event: a field that is not a bounded string or number, an amount that is not a finite number in [0, 10^10), an event time outside [now - 1 year, now + 5 minutes], a payload over 256 KB; nothing is stored then.';

revoke execute on function private.webhook_field(jsonb, text, integer) from public, anon, authenticated, service_role;
revoke execute on function private.webhook_amount(jsonb) from public, anon, authenticated, service_role;
revoke execute on function private.webhook_user_id(jsonb) from public, anon, authenticated, service_role;
revoke execute on function private.apply_membership_event(text, text, boolean, jsonb, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function private.apply_payment_event(text, text, text, jsonb, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function private.ingest_webhook_event(text, text, text, jsonb, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.ingest_webhook_event(text, text, text, jsonb, timestamptz) from public, anon, authenticated, service_role;
grant execute on function private.ingest_webhook_event(text, text, text, jsonb, timestamptz) to service_role;
grant execute on function public.ingest_webhook_event(text, text, text, jsonb, timestamptz) to service_role;

-- ---------------------------------------------------------------------------
-- Provider plan mapping: admin RPCs over private.provider_plans
-- ---------------------------------------------------------------------------

-- Admins, the service role and plain SQL (migrations, psql) manage the
-- mapping; the role setting, unlike current_user, is unchanged inside the
-- definer writers below.
create or replace function private.require_provider_plan_admin(p_action text)
returns void
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  if public.is_current_user_admin() or coalesce(auth.jwt() ->> 'role', '') = 'service_role'
     or coalesce(nullif(pg_catalog.current_setting('role', true), ''), 'none') not in ('anon', 'authenticated', 'service_role') then
    return;
  end if;
  if auth.uid() is null then
    raise exception 'you must be signed in to %', p_action using errcode = '42501';
  end if;
  raise exception 'only admins may %', p_action using errcode = '42501';
end;
$$;

comment on function private.require_provider_plan_admin(text) is
  'Raises 42501 unless the caller is an admin, the service role or a plain SQL session; p_action goes into the message.';

-- The key of a mapping, validated: the same provider format as the webhook
-- inbox, a plan id of 1 to 200 printable characters (what a webhook's
-- data.plan.id can carry).
create or replace function private.require_provider_plan_key(p_provider text, p_provider_plan_id text)
returns void
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  if p_provider is null or p_provider !~ '^[a-z][a-z0-9_]{0,31}$' then
    raise exception 'invalid p_provider: must be 1 to 32 lowercase letters, digits or underscores, starting with a letter'
      using errcode = '22023';
  end if;
  if p_provider_plan_id is null or char_length(p_provider_plan_id) not between 1 and 200 or p_provider_plan_id ~ '[[:cntrl:]]' then
    raise exception 'invalid p_provider_plan_id: 1 to 200 printable characters' using errcode = '22023';
  end if;
end;
$$;

comment on function private.require_provider_plan_key(text, text) is
  '22023 unless p_provider matches the inbox''s provider format and p_provider_plan_id is 1 to 200 printable characters.';

create or replace function private.set_provider_plan(p_provider text, p_provider_plan_id text, p_plan text)
returns setof private.provider_plans
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  perform private.require_provider_plan_admin('map provider plans');
  perform private.require_provider_plan_key(p_provider, p_provider_plan_id);
  if p_plan is null or not exists (select 1 from public.plans as p where p.plan_name = p_plan) then
    raise exception 'invalid p_plan: no plan named %', coalesce(pg_catalog.left(p_plan, 100), '(null)') using errcode = '22023',
      hint = 'One of the plan_name values of public.plans (basic, pro, enterprise).';
  end if;
  -- Setting the plan a mapping already has writes nothing (and audits nothing).
  insert into private.provider_plans as pp (provider, provider_plan_id, plan)
  values (p_provider, p_provider_plan_id, p_plan)
  on conflict (provider, provider_plan_id) do update
     set plan = excluded.plan, updated_at = pg_catalog.now()
   where pp.plan is distinct from excluded.plan;
  return query
    select pp.* from private.provider_plans as pp
     where pp.provider = p_provider and pp.provider_plan_id = p_provider_plan_id;
end;
$$;

comment on function private.set_provider_plan(text, text, text) is
  'Writer behind public.set_provider_plan (definer: the API roles have no privileges on private.provider_plans).';

create or replace function private.remove_provider_plan(p_provider text, p_provider_plan_id text)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  perform private.require_provider_plan_admin('map provider plans');
  perform private.require_provider_plan_key(p_provider, p_provider_plan_id);
  delete from private.provider_plans as pp where pp.provider = p_provider and pp.provider_plan_id = p_provider_plan_id;
  return found;
end;
$$;

comment on function private.remove_provider_plan(text, text) is
  'Writer behind public.remove_provider_plan.';

create or replace function private.list_provider_plans(p_provider text)
returns setof private.provider_plans
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform private.require_provider_plan_admin('read provider plans');
  if p_provider is not null and p_provider !~ '^[a-z][a-z0-9_]{0,31}$' then
    raise exception 'invalid p_provider: must be 1 to 32 lowercase letters, digits or underscores, starting with a letter'
      using errcode = '22023';
  end if;
  return query
    select pp.* from private.provider_plans as pp
     where p_provider is null or pp.provider = p_provider
     order by pp.provider, pp.provider_plan_id;
end;
$$;

comment on function private.list_provider_plans(text) is
  'Reader behind public.list_provider_plans.';

create or replace function public.set_provider_plan(p_provider text, p_provider_plan_id text, p_plan text)
returns table (provider text, provider_plan_id text, plan text, created_at timestamptz, updated_at timestamptz)
language sql
volatile
security invoker
set search_path = ''
as $$
  select s.provider, s.provider_plan_id, s.plan, s.created_at, s.updated_at
    from private.set_provider_plan(p_provider, p_provider_plan_id, p_plan) as s;
$$;

comment on function public.set_provider_plan(text, text, text) is
  'Admins and the service role: maps a payment provider''s plan id (Whop plan_...) to the plan a valid membership of it grants (a plan_name of public.plans), creating or replacing the mapping; audited in system_audit_logs. Applies to membership events received from then on; memberships already applied keep their plan until their next event. Returns the mapping. Errors: 42501 not an admin, 22023 invalid provider, plan id or unknown plan.';

create or replace function public.remove_provider_plan(p_provider text, p_provider_plan_id text)
returns boolean
language sql
volatile
security invoker
set search_path = ''
as $$
  select private.remove_provider_plan(p_provider, p_provider_plan_id);
$$;

comment on function public.remove_provider_plan(text, text) is
  'Admins and the service role: removes a provider plan mapping (audited); later activations of that plan are ignored as unmapped, memberships already applied keep their plan until their next event. True when a mapping was removed, false when there was none. Errors: 42501 not an admin, 22023 invalid provider or plan id.';

create or replace function public.list_provider_plans(p_provider text default null)
returns table (provider text, provider_plan_id text, plan text, created_at timestamptz, updated_at timestamptz)
language sql
stable
security invoker
set search_path = ''
as $$
  select l.provider, l.provider_plan_id, l.plan, l.created_at, l.updated_at
    from private.list_provider_plans(p_provider) as l;
$$;

comment on function public.list_provider_plans(text) is
  'Admins and the service role: the provider plan mappings, of one provider or (null) all, ordered by provider and plan id. Errors: 42501 not an admin, 22023 invalid provider.';

revoke execute on function private.require_provider_plan_admin(text) from public, anon, authenticated, service_role;
revoke execute on function private.require_provider_plan_key(text, text) from public, anon, authenticated, service_role;
revoke execute on function private.set_provider_plan(text, text, text) from public, anon, authenticated, service_role;
revoke execute on function private.remove_provider_plan(text, text) from public, anon, authenticated, service_role;
revoke execute on function private.list_provider_plans(text) from public, anon, authenticated, service_role;
revoke execute on function public.set_provider_plan(text, text, text) from public, anon, authenticated, service_role;
revoke execute on function public.remove_provider_plan(text, text) from public, anon, authenticated, service_role;
revoke execute on function public.list_provider_plans(text) from public, anon, authenticated, service_role;
grant execute on function private.set_provider_plan(text, text, text) to authenticated, service_role;
grant execute on function private.remove_provider_plan(text, text) to authenticated, service_role;
grant execute on function private.list_provider_plans(text) to authenticated, service_role;
grant execute on function public.set_provider_plan(text, text, text) to authenticated, service_role;
grant execute on function public.remove_provider_plan(text, text) to authenticated, service_role;
grant execute on function public.list_provider_plans(text) to authenticated, service_role;
