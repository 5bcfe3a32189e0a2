-- Observability fast paths: record_metric, log_user_activity and track_event
-- run on every request, so each writer is one flat plpgsql body.
--
-- Why (profiled, see docs/observability.md "Performance"): a log write is one
-- INSERT, but the writers of 20261122040000 reached it through up to nine
-- nested calls (public wrapper -> private definer -> log_actor,
-- require_label x3, optional_text, optional_object, current_correlation_id,
-- prepare_ip, optional_method), each a plpgsql function with its own
-- `set search_path` clause, and ran some 25-35 plpgsql statements. When the
-- call is the whole transaction (every API request), plpgsql re-initialises
-- each expression it evaluates once per transaction (~0.7 us each) on top of
-- each call layer (~5 us): that cost more than the INSERT itself.
--
-- Now each writer is:
--   1. the actor and every input checked in ONE boolean expression (the valid
--      case: nothing else to evaluate);
--   2. only when that expression is not true, the checks one by one, in the
--      order and with the errors (SQLSTATE, message, hint) of the old writers;
--   3. the correlation id from the request when none is given;
--   4. one INSERT (for log_user_activity an INSERT ... SELECT that reads the
--      logging settings row in the same statement and writes nothing when a
--      switch is off).
-- Two layers (public invoker wrapper -> private definer writer) is the least
-- the security rules allow: the API roles have no insert privilege on the log
-- tables (so the writer is a definer, and definers live in `private`), and
-- every function keeps `set search_path = ''`.
--
-- Behaviour is unchanged: same signatures, results, errors, settings toggles;
-- the actor still comes from the JWT (a signed-in caller naming someone else:
-- 42501). The shared helpers (private.log_actor, private.require_label, ...)
-- stay for the other writers. private.prepare_ip (an exception block, so a
-- subtransaction) runs only when an IP is given.

-- ---------------------------------------------------------------------------
-- record_metric
-- ---------------------------------------------------------------------------
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
  v_id uuid;
begin
  if not coalesce(
       -- a signed-in user, the service role or a SQL session (private.log_actor(null))
       ((v_jwt ->> 'sub') is not null
        or coalesce(v_jwt ->> 'role', pg_catalog.current_setting('role', true)) not in ('anon', 'authenticated'))
       and p_value - p_value = 0  -- finite (NaN and infinities give NaN, null gives null)
       and pg_catalog.char_length(pg_catalog.btrim(p_service_name)) between 1 and 100
       and pg_catalog.char_length(pg_catalog.btrim(p_metric_type)) between 1 and 50
       and pg_catalog.char_length(pg_catalog.btrim(p_metric_name)) between 1 and 200
       and pg_catalog.char_length(coalesce(p_unit, '')) <= 20
       and (p_tags is null or pg_catalog.jsonb_typeof(p_tags) = 'object' and pg_catalog.pg_column_size(p_tags) <= 16384),
       false) then
    -- something is wrong: report it as the checks one by one would
    if (v_jwt ->> 'sub') is null and coalesce(v_jwt ->> 'role', pg_catalog.current_setting('role', true)) in ('anon', 'authenticated') then
      raise exception 'you must be signed in to write a log entry' using errcode = '42501';
    end if;
    if p_value is null or p_value in ('NaN'::double precision, 'Infinity'::double precision, '-Infinity'::double precision) then
      raise exception 'invalid value: a finite number is required' using errcode = '22023';
    end if;
    perform private.require_label(p_service_name, 'service_name', 100);
    perform private.require_label(p_metric_type, 'metric_type', 50);
    perform private.require_label(p_metric_name, 'metric_name', 200);
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
  insert into public.system_metrics (service_name, metric_type, metric_name, value, unit, tags, correlation_id, user_id)
  values (pg_catalog.btrim(p_service_name), pg_catalog.btrim(p_metric_type), pg_catalog.btrim(p_metric_name), p_value,
          nullif(p_unit, ''), coalesce(p_tags, '{}'::jsonb),
          coalesce(p_correlation_id,
                   case when v_setting ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then v_setting::uuid end),
          (v_jwt ->> 'sub')::uuid)
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
  return private.record_metric(p_service_name, p_metric_type, p_metric_name, p_value, p_unit, p_tags, p_correlation_id);
end;
$$;

comment on function public.record_metric(text, text, text, double precision, text, jsonb, uuid) is
  'Records one metric sample (seed 004 record_metric; seed 001 logPerformance is metric_type ''latency''). The reporting user comes from the JWT. Returns the id; 22023 bad input.';

-- ---------------------------------------------------------------------------
-- log_user_activity
-- ---------------------------------------------------------------------------
create or replace function private.log_user_activity(
  p_activity_type text,
  p_activity_category text,
  p_correlation_id uuid,
  p_activity_metadata jsonb,
  p_resource_id uuid,
  p_resource_type text,
  p_ip_address text,
  p_user_agent text,
  p_request_path text,
  p_request_method text,
  p_session_id text,
  p_success boolean,
  p_error_message text,
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
  v_ip text;
  v_setting text;
  v_headers jsonb;
  v_id uuid;
begin
  if not coalesce(
       -- the actor (private.log_actor): the JWT's user, who may repeat their own id;
       -- or a caller that is neither anon nor authenticated naming the user
       case when (v_jwt ->> 'sub') is not null then p_user_id is null or p_user_id = (v_jwt ->> 'sub')::uuid
            else p_user_id is not null
                 and coalesce(v_jwt ->> 'role', pg_catalog.current_setting('role', true)) not in ('anon', 'authenticated') end
       and pg_catalog.char_length(pg_catalog.btrim(p_activity_category)) between 1 and 50
       and pg_catalog.char_length(pg_catalog.btrim(p_activity_type)) between 1 and 50
       and (p_activity_metadata is null
            or pg_catalog.jsonb_typeof(p_activity_metadata) = 'object' and pg_catalog.pg_column_size(p_activity_metadata) <= 16384)
       and pg_catalog.char_length(coalesce(p_resource_type, '')) <= 50
       and coalesce(p_ip_address, '') = ''  -- an IP is validated (and maybe anonymised) below
       and pg_catalog.char_length(coalesce(p_user_agent, '')) <= 1000
       and pg_catalog.char_length(coalesce(p_request_path, '')) <= 500
       and coalesce(pg_catalog.upper(nullif(p_request_method, '')) in ('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'), true)
       and pg_catalog.char_length(coalesce(p_session_id, '')) <= 100
       and pg_catalog.char_length(coalesce(p_error_message, '')) <= 10000,
       false) then
    -- an IP, or something wrong: the checks one by one, as before
    perform private.log_actor(p_user_id);
    perform private.require_label(p_activity_category, 'activity_category', 50);
    if private.log_actor(p_user_id) is null then
      raise exception 'invalid user: p_user_id is required for a service-role activity entry' using errcode = '22023';
    end if;
    perform private.require_label(p_activity_type, 'activity_type', 50);
    perform private.optional_object(p_activity_metadata, 'activity_metadata');
    perform private.optional_text(p_resource_type, 'resource_type', 50);
    v_ip := private.prepare_ip(p_ip_address,
      coalesce(((select s.config_data from public.admin_config as s where s.config_key = 'logging_settings')
                -> 'privacy_settings' ->> 'anonymize_ip')::boolean, false));
    perform private.optional_text(p_user_agent, 'user_agent', 1000);
    perform private.optional_text(p_request_path, 'request_path', 500);
    perform private.optional_method(p_request_method);
    perform private.optional_text(p_session_id, 'session_id', 100);
    perform private.optional_text(p_error_message, 'error_message', 10000);
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
  -- The settings row is read by the insert itself: nothing is written (and
  -- null returned) when user activity logging or the category's toggle
  -- (log_<category>_events; authentication uses log_auth_events) is off, or
  -- when no settings row exists (the default is off). A missing toggle means on.
  insert into public.user_activity_logs (id, user_id, correlation_id, activity_type, activity_category, activity_metadata,
                                         resource_id, resource_type, ip_address, user_agent, request_path, request_method,
                                         session_id, success, error_message, created_at)
  select gen_random_uuid(), coalesce((v_jwt ->> 'sub')::uuid, p_user_id),
         coalesce(p_correlation_id,
                  case when v_setting ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then v_setting::uuid end,
                  gen_random_uuid()),
         pg_catalog.btrim(p_activity_type), pg_catalog.btrim(p_activity_category), coalesce(p_activity_metadata, '{}'::jsonb),
         p_resource_id, nullif(p_resource_type, ''), v_ip, nullif(p_user_agent, ''), nullif(p_request_path, ''),
         pg_catalog.upper(nullif(p_request_method, '')), nullif(p_session_id, ''), coalesce(p_success, true),
         nullif(p_error_message, ''), pg_catalog.now()
    from public.admin_config as s
   where s.config_key = 'logging_settings'
     and coalesce((s.config_data ->> 'user_activity_logging_enabled')::boolean, false)
     and coalesce((s.config_data -> 'category_toggles'
                     ->> ('log_' || case pg_catalog.lower(pg_catalog.btrim(p_activity_category)) when 'authentication' then 'auth'
                                    else pg_catalog.lower(pg_catalog.btrim(p_activity_category)) end || '_events'))::boolean,
                  true)
  returning id into v_id;
  return v_id;
end;
$$;

comment on function private.log_user_activity(text, text, uuid, jsonb, uuid, text, text, text, text, text, text, boolean, text, uuid) is
  'Writer behind public.log_user_activity (definer: the API roles cannot insert into user_activity_logs): actor from the JWT, inputs checked, one insert that honours the logging settings. Other domains call it directly (it never relaxes synchronous_commit).';

create or replace function public.log_user_activity(
  p_activity_type text,
  p_activity_category text,
  p_correlation_id uuid default null,
  p_activity_metadata jsonb default null,
  p_resource_id uuid default null,
  p_resource_type text default null,
  p_ip_address text default null,
  p_user_agent text default null,
  p_request_path text default null,
  p_request_method text default null,
  p_session_id text default null,
  p_success boolean default true,
  p_error_message text default null,
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
  return private.log_user_activity(p_activity_type, p_activity_category, p_correlation_id, p_activity_metadata,
                                   p_resource_id, p_resource_type, p_ip_address, p_user_agent, p_request_path,
                                   p_request_method, p_session_id, p_success, p_error_message, p_user_id);
end;
$$;

comment on function public.log_user_activity(text, text, uuid, jsonb, uuid, text, text, text, text, text, text, boolean, text, uuid) is
  'Records a user action (seed 002 user_activity_logs) for the signed-in user (p_user_id: service role only). Honours user_activity_logging_enabled, category_toggles.log_<category>_events and anonymize_ip. Returns the id, or null when not logged.';

-- ---------------------------------------------------------------------------
-- track_event
-- ---------------------------------------------------------------------------
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
       and (p_properties is null
            or pg_catalog.jsonb_typeof(p_properties) = 'object' and pg_catalog.pg_column_size(p_properties) <= 16384),
       false) then
    -- something is wrong: report it as the checks one by one would
    perform private.log_actor(p_user_id);
    perform private.optional_text(p_session_id, 'session_id', 100);
    perform private.require_label(p_event_name, 'event_name', 100);
    perform private.require_label(p_event_category, 'event_category', 50);
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
  insert into public.analytics_events (user_id, session_id, event_name, event_category, properties, correlation_id)
  values (coalesce((v_jwt ->> 'sub')::uuid, p_user_id), nullif(p_session_id, ''), pg_catalog.btrim(p_event_name),
          pg_catalog.btrim(p_event_category), coalesce(p_properties, '{}'::jsonb),
          coalesce(p_correlation_id,
                   case when v_setting ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then v_setting::uuid end))
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
  return private.track_event(p_event_name, p_event_category, p_properties, p_session_id, p_correlation_id, p_user_id);
end;
$$;

comment on function public.track_event(text, text, jsonb, text, uuid, uuid) is
  'Records an analytics event (seed 004) for the signed-in user in session p_session_id (p_user_id: service role only). Returns the id.';
