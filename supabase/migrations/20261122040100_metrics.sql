-- Metrics and analytics (observability): the system_metrics time series (seed
-- 001's performance metrics are its rows), product analytics events, their
-- hot write RPCs, the daily_metrics rollup and the views over it. Writers use
-- the helpers of 20261122040000_logs.sql and commit as telemetry (see there).
--
-- Seeds: 001 (performance_metrics), 004 (system_metrics, record_metric,
-- analytics_events, track_event, daily_metrics, refresh_daily_metrics,
-- analytics_summary, user_engagement_metrics). Mapping and choices:
-- docs/observability.md.

-- ---------------------------------------------------------------------------
-- system_metrics (seed 004), monthly partitions. Seed 001's performance_metrics
-- are system_metrics rows (metric_type 'latency'/'duration'): one time series
-- table.
-- ---------------------------------------------------------------------------
-- A metric value: finite and within +/-1e15, so that sums over a series
-- cannot overflow. A domain (cached per session) rather than a table CHECK
-- (planned per statement): see the column domains in 20261122040000_logs.sql.
create domain private.metric_value as double precision check (value <> 'NaN' and value between -1e15 and 1e15);

comment on domain private.metric_value is 'A metric sample: finite (not NaN or +/-Infinity) and between -1e15 and 1e15 (23514 otherwise).';

create table if not exists public.system_metrics (
  id uuid not null default gen_random_uuid(),
  service_name varchar(100) not null,
  metric_type varchar(50) not null,
  metric_name varchar(200) not null,
  value private.metric_value not null,
  unit varchar(20),
  tags jsonb not null default '{}'::jsonb,
  correlation_id uuid,
  user_id uuid,
  recorded_at private.finite_timestamptz not null default now(),
  primary key (id, recorded_at)
) partition by range (recorded_at);

comment on table public.system_metrics is
  'Time-series metrics (seed 004 system_metrics; seed 001 performance_metrics), partitioned by month. Written by record_metric; admins read.';
comment on column public.system_metrics.user_id is 'The signed-in user who reported the metric (from the JWT); null for the service role.';

create index if not exists system_metrics_series_idx on public.system_metrics (service_name, metric_name, recorded_at desc);

create index if not exists system_metrics_correlation_idx on public.system_metrics (correlation_id) where correlation_id is not null;

alter table public.system_metrics enable row level security;

create policy system_metrics_select on public.system_metrics
  for select to authenticated using ((select public.is_current_user_admin()));

revoke all on table public.system_metrics from anon, authenticated, service_role;
grant select on table public.system_metrics to authenticated;
grant select, insert, delete on table public.system_metrics to service_role;

-- ---------------------------------------------------------------------------
-- analytics_events (seed 004), monthly partitions.
-- ---------------------------------------------------------------------------
create table if not exists public.analytics_events (
  id uuid not null default gen_random_uuid(),
  user_id uuid references auth.users (id) on delete cascade,
  session_id varchar(100),
  event_name varchar(100) not null,
  event_category varchar(50) not null,
  properties jsonb not null default '{}'::jsonb,
  correlation_id uuid,
  created_at private.finite_timestamptz not null default now(),
  primary key (id, created_at)
) partition by range (created_at);

comment on table public.analytics_events is
  'Product analytics events (seed 004), partitioned by month. Written by track_event; users read their own, admins all; aggregated daily into private.daily_metrics.';

create index if not exists analytics_events_user_created_idx on public.analytics_events (user_id, created_at desc);

create index if not exists analytics_events_correlation_idx on public.analytics_events (correlation_id) where correlation_id is not null;

create index if not exists analytics_events_name_created_idx on public.analytics_events (event_category, event_name, created_at desc);

alter table public.analytics_events enable row level security;

create policy analytics_events_select on public.analytics_events
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));

revoke all on table public.analytics_events from anon, authenticated, service_role;
grant select on table public.analytics_events to authenticated;
grant select, insert, delete on table public.analytics_events to service_role;

-- Partitions: created ahead by the daily partition-maintenance job.
select private.register_partitioned_table('public.system_metrics', p_premake => 3, p_retention => interval '90 days');
select private.register_partitioned_table('public.analytics_events', p_premake => 3, p_retention => interval '400 days');

-- The writer of each correlation id (private.correlation_writers).
create trigger system_metrics_correlation_writer
  after insert on public.system_metrics
  for each row when (new.correlation_id is not null)
  execute function private.track_correlation_writer();
create trigger analytics_events_correlation_writer
  after insert on public.analytics_events
  for each row when (new.correlation_id is not null)
  execute function private.track_correlation_writer();

-- ---------------------------------------------------------------------------
-- Write RPCs: invoker wrappers around definer writers (the API roles have no
-- insert privilege on these tables).
-- ---------------------------------------------------------------------------

-- A hot writer: one flat body, as private.log_user_activity's.
create or replace function private.record_metric(
  p_service_name text,
  p_metric_type text,
  p_metric_name text,
  p_value double precision,
  p_unit text,
  p_tags jsonb,
  p_correlation_id uuid
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  -- the claims parsed once (auth.jwt() is inlined)
  v_jwt jsonb := auth.jwt();
  v_setting text;
  v_headers jsonb;
  v_corr uuid;
  v_id uuid;
begin
  if not coalesce(
       -- a signed-in user, the service role or a SQL session (private.log_actor(null))
       ((v_jwt ->> 'sub') is not null
        or coalesce(v_jwt ->> 'role', pg_catalog.current_setting('role', true)) not in ('anon', 'authenticated'))
       and p_value between -1e15 and 1e15  -- finite and bounded (NaN sorts above every number, null gives null)
       and pg_catalog.char_length(pg_catalog.btrim(p_service_name)) between 1 and 100
       and pg_catalog.char_length(pg_catalog.btrim(p_metric_type)) between 1 and 50
       and pg_catalog.char_length(pg_catalog.btrim(p_metric_name)) between 1 and 200
       -- no reserved name from a signed-in caller (private.is_reserved_name)
       and ((v_jwt ->> 'sub') is null
            or not ((pg_catalog.lower(pg_catalog.btrim(p_service_name)) in ('admin', 'system', 'service')
                    or pg_catalog.lower(pg_catalog.btrim(p_service_name)) ~ '^(admin|system|service|auth)[.:]')
                    or (pg_catalog.lower(pg_catalog.btrim(p_metric_name)) in ('admin', 'system', 'service')
                    or pg_catalog.lower(pg_catalog.btrim(p_metric_name)) ~ '^(admin|system|service|auth)[.:]')))
       and pg_catalog.char_length(coalesce(p_unit, '')) <= 20
       and (p_tags is null or pg_catalog.jsonb_typeof(p_tags) = 'object' and pg_catalog.pg_column_size(p_tags) <= 16384),
       false) then
    -- something is wrong: report it as the checks one by one would
    if (v_jwt ->> 'sub') is null and coalesce(v_jwt ->> 'role', pg_catalog.current_setting('role', true)) in ('anon', 'authenticated') then
      raise exception 'you must be signed in to write a log entry' using errcode = '42501';
    end if;
    if p_value is null then
      raise exception 'invalid value: a finite number is required' using errcode = '22023';
    end if;
    perform private.require_finite(p_value::numeric, 'value');
    if abs(p_value) > 1e15 then
      raise exception 'invalid value: must be between -1e15 and 1e15' using errcode = '22023';
    end if;
    perform private.require_label(p_service_name, 'service_name', 100);
    perform private.require_label(p_metric_type, 'metric_type', 50);
    perform private.require_label(p_metric_name, 'metric_name', 200);
    perform private.require_unreserved(p_service_name, 'service_name');
    perform private.require_unreserved(p_metric_name, 'metric_name');
    perform private.optional_text(p_unit, 'unit', 20);
    perform private.optional_object(p_tags, 'tags');
  end if;
  if p_correlation_id is null then
    -- as private.current_correlation_id()
    v_setting := nullif(pg_catalog.current_setting('app.correlation_id', true), '');
    if v_setting is null then
      v_headers := nullif(pg_catalog.current_setting('request.headers', true), '')::jsonb;
      if v_headers is not null then
        v_setting := coalesce(v_headers ->> 'x-correlation-id', v_headers ->> 'x-request-id');
      end if;
    end if;
  end if;
  v_corr := coalesce(p_correlation_id,
                     case when v_setting ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then v_setting::uuid end);
  -- a signed-in user writes only under their own correlation ids
  if v_corr is not null and (v_jwt ->> 'sub') is not null then
    perform private.require_own_correlation(v_corr);
  end if;
  insert into public.system_metrics (service_name, metric_type, metric_name, value, unit, tags, correlation_id, user_id)
  values (pg_catalog.btrim(p_service_name), pg_catalog.btrim(p_metric_type), pg_catalog.btrim(p_metric_name), p_value,
          nullif(p_unit, ''), coalesce(p_tags, '{}'::jsonb),
          v_corr, (v_jwt ->> 'sub')::uuid)
  returning id into v_id;
  return v_id;
end;
$$;

comment on function private.record_metric(text, text, text, double precision, text, jsonb, uuid) is
  'Writer behind public.record_metric (definer: the API roles cannot insert into system_metrics): the user from the JWT, inputs checked, one insert. Other domains call it directly (it never relaxes synchronous_commit).';

create or replace function public.record_metric(
  p_service_name text,
  p_metric_type text,
  p_metric_name text,
  p_value double precision,
  p_unit text default null,
  p_tags jsonb default null,
  p_correlation_id uuid default null
)
returns uuid
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_ignored text;
begin
  -- asynchronous commit when the call is the whole transaction (telemetry;
  -- docs/observability.md). An assignment, not PERFORM: a simple expression.
  v_ignored := case when pg_catalog.pg_current_xact_id_if_assigned() is null
                    then pg_catalog.set_config('synchronous_commit', 'off', true) end;
  perform private.consume_quota('telemetry');
  return private.record_metric(p_service_name, p_metric_type, p_metric_name, p_value, p_unit, p_tags, p_correlation_id);
end;
$$;

comment on function public.record_metric(text, text, text, double precision, text, jsonb, uuid) is
  'Records one metric sample (seed 004 record_metric; seed 001 logPerformance is metric_type ''latency''). The reporting user comes from the JWT. Returns the id; 22023 bad input.';

-- A hot writer: one flat body, as private.log_user_activity's.
create or replace function private.track_event(
  p_event_name text,
  p_event_category text,
  p_properties jsonb,
  p_session_id text,
  p_correlation_id uuid,
  p_user_id uuid
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_jwt jsonb := auth.jwt();
  v_setting text;
  v_headers jsonb;
  v_corr uuid;
  v_id uuid;
begin
  if not coalesce(
       -- the actor (private.log_actor): the JWT's user, who may repeat their own id;
       -- or a caller that is neither anon nor authenticated, naming a user or none
       case when (v_jwt ->> 'sub') is not null then p_user_id is null or p_user_id = (v_jwt ->> 'sub')::uuid
            else coalesce(v_jwt ->> 'role', pg_catalog.current_setting('role', true)) not in ('anon', 'authenticated') end
       and pg_catalog.char_length(coalesce(p_session_id, '')) <= 100
       and pg_catalog.char_length(pg_catalog.btrim(p_event_name)) between 1 and 100
       and pg_catalog.char_length(pg_catalog.btrim(p_event_category)) between 1 and 50
       -- no reserved name from a signed-in caller (private.is_reserved_name)
       and ((v_jwt ->> 'sub') is null
            or not ((pg_catalog.lower(pg_catalog.btrim(p_event_name)) in ('admin', 'system', 'service')
                    or pg_catalog.lower(pg_catalog.btrim(p_event_name)) ~ '^(admin|system|service|auth)[.:]')
                    or (pg_catalog.lower(pg_catalog.btrim(p_event_category)) in ('admin', 'system', 'service')
                    or pg_catalog.lower(pg_catalog.btrim(p_event_category)) ~ '^(admin|system|service|auth)[.:]')))
       and (p_properties is null
            or pg_catalog.jsonb_typeof(p_properties) = 'object' and pg_catalog.pg_column_size(p_properties) <= 16384),
       false) then
    -- something is wrong: report it as the checks one by one would
    perform private.log_actor(p_user_id);
    perform private.optional_text(p_session_id, 'session_id', 100);
    perform private.require_label(p_event_name, 'event_name', 100);
    perform private.require_label(p_event_category, 'event_category', 50);
    perform private.require_unreserved(p_event_name, 'event_name');
    perform private.require_unreserved(p_event_category, 'event_category');
    perform private.optional_object(p_properties, 'properties');
  end if;
  if p_correlation_id is null then
    -- as private.current_correlation_id()
    v_setting := nullif(pg_catalog.current_setting('app.correlation_id', true), '');
    if v_setting is null then
      v_headers := nullif(pg_catalog.current_setting('request.headers', true), '')::jsonb;
      if v_headers is not null then
        v_setting := coalesce(v_headers ->> 'x-correlation-id', v_headers ->> 'x-request-id');
      end if;
    end if;
  end if;
  v_corr := coalesce(p_correlation_id,
                     case when v_setting ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then v_setting::uuid end);
  -- a signed-in user writes only under their own correlation ids
  if v_corr is not null and (v_jwt ->> 'sub') is not null then
    perform private.require_own_correlation(v_corr);
  end if;
  insert into public.analytics_events (user_id, session_id, event_name, event_category, properties, correlation_id)
  values (coalesce((v_jwt ->> 'sub')::uuid, p_user_id), nullif(p_session_id, ''), pg_catalog.btrim(p_event_name),
          pg_catalog.btrim(p_event_category), coalesce(p_properties, '{}'::jsonb),
          v_corr)
  returning id into v_id;
  return v_id;
end;
$$;

comment on function private.track_event(text, text, jsonb, text, uuid, uuid) is
  'Writer behind public.track_event (definer: the API roles cannot insert into analytics_events): actor from the JWT, inputs checked, one insert. Other domains call it directly (it never relaxes synchronous_commit).';

create or replace function public.track_event(
  p_event_name text,
  p_event_category text default 'user_action',
  p_properties jsonb default null,
  p_session_id text default null,
  p_correlation_id uuid default null,
  p_user_id uuid default null
)
returns uuid
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_ignored text;
begin
  -- asynchronous commit when the call is the whole transaction (telemetry;
  -- docs/observability.md). An assignment, not PERFORM: a simple expression.
  v_ignored := case when pg_catalog.pg_current_xact_id_if_assigned() is null
                    then pg_catalog.set_config('synchronous_commit', 'off', true) end;
  perform private.consume_quota('telemetry');
  return private.track_event(p_event_name, p_event_category, p_properties, p_session_id, p_correlation_id, p_user_id);
end;
$$;

comment on function public.track_event(text, text, jsonb, text, uuid, uuid) is
  'Records an analytics event (seed 004) for the signed-in user in session p_session_id (p_user_id: service role only). Returns the id.';

revoke execute on function private.record_metric(text, text, text, double precision, text, jsonb, uuid) from public, anon, authenticated, service_role;
revoke execute on function public.record_metric(text, text, text, double precision, text, jsonb, uuid) from public, anon, authenticated, service_role;
revoke execute on function private.track_event(text, text, jsonb, text, uuid, uuid) from public, anon, authenticated, service_role;
revoke execute on function public.track_event(text, text, jsonb, text, uuid, uuid) from public, anon, authenticated, service_role;
grant execute on function private.record_metric(text, text, text, double precision, text, jsonb, uuid) to authenticated, service_role;
grant execute on function public.record_metric(text, text, text, double precision, text, jsonb, uuid) to authenticated, service_role;
grant execute on function private.track_event(text, text, jsonb, text, uuid, uuid) to authenticated, service_role;
grant execute on function public.track_event(text, text, jsonb, text, uuid, uuid) to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- Analytics: daily_metrics (materialized, private: advisor 0016) and the
-- invoker views users and admins query.
-- ---------------------------------------------------------------------------
create materialized view if not exists private.daily_metrics as
  select (e.created_at at time zone 'UTC')::date as day,
         'analytics'::text as source,
         e.event_category::text as category,
         e.event_name::text as name,
         count(*) as event_count,
         count(distinct e.user_id) as unique_users,
         count(distinct e.session_id) as unique_sessions,
         0::bigint as failures,
         0::bigint as total_tokens,
         0::numeric as total_cost
    from public.analytics_events as e
   group by 1, 3, 4
  union all
  select (u.created_at at time zone 'UTC')::date, 'user_activity', u.activity_category::text, u.activity_type::text,
         count(*), count(distinct u.user_id), count(distinct u.session_id),
         count(*) filter (where not u.success), 0::bigint, 0::numeric
    from public.user_activity_logs as u
   group by 1, 3, 4
  union all
  select (a.created_at at time zone 'UTC')::date, 'agent_activity', a.agent_type::text, a.operation_type::text,
         count(*), count(distinct a.user_id), 0::bigint,
         count(*) filter (where not a.success), coalesce(sum(a.total_tokens), 0)::bigint, coalesce(sum(a.total_cost), 0)
    from public.agent_activity_logs as a
   group by 1, 3, 4
with data;

comment on materialized view private.daily_metrics is
  'Per UTC day: analytics events, user activities and agent operations by category and name with counts, unique users and sessions, failures, tokens and cost (seed 004 daily_metrics; seed 002 admin analytics). Refreshed concurrently by refresh_daily_metrics.';

create unique index if not exists daily_metrics_key on private.daily_metrics (day, source, category, name);
revoke all on private.daily_metrics from public, anon, authenticated, service_role;

-- Definer: only the owner may refresh a materialized view.
create or replace function private.refresh_daily_metrics()
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_rows bigint;
begin
  perform private.require_operator('refresh daily metrics');
  -- concurrently: readers keep the previous contents while it runs
  refresh materialized view concurrently private.daily_metrics;
  select count(*) into v_rows from private.daily_metrics;
  return v_rows;
end;
$$;

comment on function private.refresh_daily_metrics() is 'Writer behind public.refresh_daily_metrics.';

create or replace function public.refresh_daily_metrics()
returns bigint
language sql
volatile
security invoker
set search_path = ''
as $$
  select private.refresh_daily_metrics();
$$;

comment on function public.refresh_daily_metrics() is
  'Recomputes daily_metrics without blocking readers (refresh concurrently); returns its row count. Admins and the service role; pg_cron runs it hourly.';

create or replace function private.get_daily_metrics(p_from date, p_to date, p_source text)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform private.require_operator('read daily metrics');
  if not (pg_catalog.isfinite(p_from) and pg_catalog.isfinite(p_to)) then
    raise exception 'invalid date range: p_from and p_to must be finite dates' using errcode = '22023';
  end if;
  if p_from > p_to then
    raise exception 'invalid date range: p_from is after p_to' using errcode = '22023';
  end if;
  return coalesce((
    select jsonb_agg(to_jsonb(m) order by m.day, m.source, m.category, m.name)
      from private.daily_metrics as m
     where m.day between p_from and p_to
       and (p_source is null or m.source = p_source)), '[]'::jsonb);
end;
$$;

comment on function private.get_daily_metrics(date, date, text) is 'Reader behind public.get_daily_metrics.';

create or replace function public.get_daily_metrics(
  p_from date default (now() at time zone 'UTC')::date - 30,
  p_to date default (now() at time zone 'UTC')::date,
  p_source text default null
)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select private.get_daily_metrics(p_from, p_to, p_source);
$$;

comment on function public.get_daily_metrics(date, date, text) is
  'Admin analytics: daily_metrics rows from p_from to p_to (UTC days), optionally one source (analytics, user_activity, agent_activity), as a JSON array. Admins and the service role.';

create or replace view public.analytics_summary
with (security_invoker = true)
as
select e.event_category,
       e.event_name,
       count(*) as total_events,
       count(distinct e.user_id) as unique_users,
       count(distinct e.session_id) as unique_sessions,
       min(e.created_at) as first_event_at,
       max(e.created_at) as last_event_at
  from public.analytics_events as e
 group by e.event_category, e.event_name;

comment on view public.analytics_summary is
  'Events by category and name with users, sessions and first/last time (seed 004). Security invoker: a user sees their own events, an admin everyone''s.';

create or replace view public.user_engagement_metrics
with (security_invoker = true)
as
select e.user_id,
       count(*) as total_events,
       count(distinct e.session_id) as total_sessions,
       count(distinct (e.created_at at time zone 'UTC')::date) as active_days,
       min(e.created_at) as first_event_at,
       max(e.created_at) as last_event_at,
       round(count(*)::numeric / greatest(count(distinct e.session_id), 1), 2) as events_per_session
  from public.analytics_events as e
 where e.user_id is not null
 group by e.user_id;

comment on view public.user_engagement_metrics is
  'Per user: events, sessions, active days, first/last event, events per session (seed 004). Security invoker: a user sees only their own row, an admin everyone''s.';

revoke all on public.analytics_summary from anon, authenticated, service_role;
revoke all on public.user_engagement_metrics from anon, authenticated, service_role;
grant select on public.analytics_summary to authenticated, service_role;
grant select on public.user_engagement_metrics to authenticated, service_role;

revoke execute on function
  private.refresh_daily_metrics(),
  public.refresh_daily_metrics(),
  private.get_daily_metrics(date, date, text),
  public.get_daily_metrics(date, date, text)
  from public, anon, authenticated, service_role;
grant execute on function
  private.refresh_daily_metrics(),
  public.refresh_daily_metrics(),
  private.get_daily_metrics(date, date, text),
  public.get_daily_metrics(date, date, text)
  to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- Scheduling (cron.schedule upserts by name: re-running is harmless).
-- ---------------------------------------------------------------------------
select cron.schedule('refresh-daily-metrics', '5 * * * *', 'select public.refresh_daily_metrics()');
