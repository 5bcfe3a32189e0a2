-- Audit trail (observability): system_audit_logs, the log_audit_event RPC (always
-- committed synchronously), the row-change audit trigger any table opts into,
-- and the correlation-id trace across the logs and the audit trail.
--
-- Seeds: 004 (system_audit_logs, log_audit_event, "audit configuration
-- changes", correlation ids for distributed tracing). Mapping and choices:
-- docs/observability.md.

-- ---------------------------------------------------------------------------
-- system_audit_logs (seed 004), monthly partitions.
-- ---------------------------------------------------------------------------
-- Who wrote an audit entry. A domain rather than a table CHECK, as the log
-- tables' column rules (20261122040000_logs.sql).
create domain private.audit_actor_type as varchar(20) check (value in ('user', 'service', 'system'));

comment on domain private.audit_actor_type is 'The kind of actor of an audit entry: user, service or system (23514 otherwise).';

create table if not exists public.system_audit_logs (
  id uuid not null default gen_random_uuid(),
  actor_type private.audit_actor_type not null,
  actor_identifier varchar(200) not null,
  actor_role varchar(50),
  action varchar(100) not null,
  resource_type varchar(100) not null,
  resource_id varchar(200),
  old_values jsonb,
  new_values jsonb,
  changed_columns text[],
  correlation_id uuid,
  metadata jsonb not null default '{}'::jsonb,
  created_at private.finite_timestamptz not null default now(),
  primary key (id, created_at)
) partition by range (created_at);

comment on table public.system_audit_logs is
  'Audit trail (seed 004): who (actor type, identifier, role) did what to which resource, with old/new values and the changed columns. Written by log_audit_event and by the opt-in audit trigger; admins read.';
comment on column public.system_audit_logs.actor_identifier is 'The user id for actor_type user (from the JWT), else the service or system name.';
comment on column public.system_audit_logs.changed_columns is 'For updates: the keys whose values differ between old_values and new_values.';

create index if not exists system_audit_logs_resource_idx on public.system_audit_logs (resource_type, resource_id, created_at desc);

create index if not exists system_audit_logs_actor_idx on public.system_audit_logs (actor_identifier, created_at desc);

create index if not exists system_audit_logs_correlation_idx on public.system_audit_logs (correlation_id) where correlation_id is not null;

alter table public.system_audit_logs enable row level security;

create policy system_audit_logs_select on public.system_audit_logs
  for select to authenticated using ((select public.is_current_user_admin()));

revoke all on table public.system_audit_logs from anon, authenticated, service_role;
grant select on table public.system_audit_logs to authenticated;
grant select, insert on table public.system_audit_logs to service_role;

-- Partitions: created ahead by the daily partition-maintenance job.
select private.register_partitioned_table('public.system_audit_logs', p_premake => 3, p_retention => interval '400 days');

-- The writer of each correlation id (private.correlation_writers): the actor.
create trigger system_audit_logs_correlation_writer
  after insert on public.system_audit_logs
  for each row when (new.correlation_id is not null)
  execute function private.track_audit_correlation_writer();

-- ---------------------------------------------------------------------------
-- Write RPC: an invoker wrapper around a definer writer (the API roles have no
-- insert privilege on the audit trail). Always committed synchronously.
-- ---------------------------------------------------------------------------
create or replace function private.log_audit_event(
  p_actor_type text,
  p_actor_identifier text,
  p_action text,
  p_resource_type text,
  p_resource_id text,
  p_old_values jsonb,
  p_new_values jsonb,
  p_correlation_id uuid,
  p_metadata jsonb
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := (select auth.uid());
  v_jwt_role text := coalesce((select auth.jwt()) ->> 'role', pg_catalog.current_setting('role', true));
  v_actor_type text := p_actor_type;
  v_actor text := p_actor_identifier;
  v_role text;
  v_correlation_id uuid := coalesce(p_correlation_id, private.current_correlation_id());
  v_id uuid;
begin
  if v_actor_type is not null and v_actor_type not in ('user', 'service', 'system') then
    raise exception 'invalid actor_type: must be user, service or system' using errcode = '22023';
  end if;
  if v_uid is not null then
    -- a signed-in user is always the actor
    if coalesce(v_actor_type, 'user') <> 'user' or coalesce(v_actor, v_uid::text) <> v_uid::text then
      raise exception 'cannot write an audit event as another actor' using errcode = '42501',
        hint = 'Leave p_actor_type and p_actor_identifier out: the actor comes from your JWT.';
    end if;
    v_actor_type := 'user';
    v_actor := v_uid::text;
    v_role := public.get_user_role();
    -- the system's names, and the row-change actions of the audit trigger
    perform private.require_unreserved(p_action, 'action');
    perform private.require_unreserved(p_resource_type, 'resource_type');
    if pg_catalog.lower(pg_catalog.btrim(p_action)) in ('insert', 'update', 'delete') then
      raise exception 'invalid action: % is reserved for the system', p_action using errcode = '42501',
        hint = 'insert, update and delete are the audit trigger''s row-change records.';
    end if;
    perform private.require_own_correlation(v_correlation_id);
  elsif v_jwt_role in ('anon', 'authenticated') then
    raise exception 'you must be signed in to write an audit event' using errcode = '42501';
  else
    v_actor_type := coalesce(v_actor_type, case when v_jwt_role = 'service_role' then 'service' else 'system' end);
    v_actor := coalesce(nullif(btrim(v_actor), ''), case when v_jwt_role = 'service_role' then 'service_role' else session_user::text end);
    v_role := v_jwt_role;
  end if;
  if char_length(v_actor) > 200 then
    raise exception 'invalid actor_identifier: at most 200 characters' using errcode = '22023';
  end if;
  if p_old_values is not null and jsonb_typeof(p_old_values) <> 'object'
     or p_new_values is not null and jsonb_typeof(p_new_values) <> 'object' then
    raise exception 'invalid old_values/new_values: must be JSON objects' using errcode = '22023';
  end if;
  if pg_catalog.pg_column_size(p_old_values) > 65536 or pg_catalog.pg_column_size(p_new_values) > 65536 then
    raise exception 'invalid old_values/new_values: at most 64 KiB each' using errcode = '22023';
  end if;
  insert into public.system_audit_logs (actor_type, actor_identifier, actor_role, action, resource_type, resource_id,
                                        old_values, new_values, changed_columns, correlation_id, metadata)
  values (v_actor_type, v_actor, v_role,
          private.require_label(p_action, 'action', 100),
          private.require_label(p_resource_type, 'resource_type', 100),
          case when p_resource_id is null then null else private.optional_text(p_resource_id, 'resource_id', 200) end,
          p_old_values, p_new_values,
          case when p_old_values is not null and p_new_values is not null then
            array(select k from (select jsonb_object_keys(p_old_values) union select jsonb_object_keys(p_new_values)) as u(k)
                   where p_old_values -> k is distinct from p_new_values -> k order by k)
          end,
          v_correlation_id,
          case when p_metadata is null then '{}'::jsonb else private.optional_object(p_metadata, 'metadata') end)
  returning id into v_id;
  return v_id;
end;
$$;

comment on function private.log_audit_event(text, text, text, text, text, jsonb, jsonb, uuid, jsonb) is
  'Writer behind public.log_audit_event (definer: the API roles cannot insert into system_audit_logs).';

create or replace function public.log_audit_event(
  p_actor_type text,
  p_actor_identifier text,
  p_action text,
  p_resource_type text,
  p_resource_id text default null,
  p_old_values jsonb default null,
  p_new_values jsonb default null,
  p_correlation_id uuid default null,
  p_metadata jsonb default null
)
returns uuid
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  perform private.consume_quota('telemetry');
  return private.log_audit_event(p_actor_type, p_actor_identifier, p_action, p_resource_type, p_resource_id,
                                 p_old_values, p_new_values, p_correlation_id, p_metadata);
end;
$$;

comment on function public.log_audit_event(text, text, text, text, text, jsonb, jsonb, uuid, jsonb) is
  'Records an audit event (seed 004). A signed-in user is always the actor (p_actor_type ''user'' or null, p_actor_identifier their id or null; 42501 otherwise); the service role names a service or system actor. changed_columns is computed from old and new values. Returns the id.';

revoke execute on function private.log_audit_event(text, text, text, text, text, jsonb, jsonb, uuid, jsonb) from public, anon, authenticated, service_role;
revoke execute on function public.log_audit_event(text, text, text, text, text, jsonb, jsonb, uuid, jsonb) from public, anon, authenticated, service_role;
grant execute on function private.log_audit_event(text, text, text, text, text, jsonb, jsonb, uuid, jsonb) to authenticated, service_role;
grant execute on function public.log_audit_event(text, text, text, text, text, jsonb, jsonb, uuid, jsonb) to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- Audit trigger any table can opt into (supa_audit-style):
--   select private.enable_audit('public.x', p_excluded_columns => array['noisy_col']);

-- ---------------------------------------------------------------------------
create or replace function private.audit_row_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_excluded text[] := coalesce(tg_argv::text[], '{}');
  v_old jsonb;
  v_new jsonb;
  v_changed text[];
  v_uid uuid := (select auth.uid());
  v_jwt_role text := coalesce((select auth.jwt()) ->> 'role', pg_catalog.current_setting('role', true));
  v_correlation_id uuid := private.current_correlation_id();
begin
  -- a user's request header cannot put their change into someone else's
  -- trace: the change is recorded, without that correlation id
  if v_uid is not null and v_correlation_id is not null and private.is_foreign_correlation(v_correlation_id, v_uid) then
    v_correlation_id := null;
  end if;
  if tg_op in ('UPDATE', 'DELETE') then
    v_old := to_jsonb(old) - v_excluded;
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    v_new := to_jsonb(new) - v_excluded;
  end if;
  if tg_op = 'UPDATE' then
    v_changed := array(select n.key from jsonb_each(v_new) as n where v_old -> n.key is distinct from n.value order by n.key);
    if cardinality(v_changed) = 0 then
      return null; -- only excluded columns changed
    end if;
  end if;
  insert into public.system_audit_logs (actor_type, actor_identifier, actor_role, action, resource_type, resource_id,
                                        old_values, new_values, changed_columns, correlation_id)
  values (case when v_uid is not null then 'user' when v_jwt_role = 'service_role' then 'service' else 'system' end,
          coalesce(v_uid::text, case when v_jwt_role = 'service_role' then 'service_role' else session_user::text end),
          case when v_uid is not null then public.get_user_role() else v_jwt_role end,
          lower(tg_op),
          tg_table_schema || '.' || tg_table_name,
          coalesce(v_new ->> 'id', v_old ->> 'id'),
          v_old, v_new, v_changed,
          v_correlation_id);
  return null;
end;
$$;

comment on function private.audit_row_change() is
  'Trigger (after insert/update/delete, for each row): records the change in system_audit_logs with the acting user or role; trigger arguments name columns to leave out. Attach with private.enable_audit().';

create or replace function private.enable_audit(p_table regclass, p_excluded_columns text[] default '{}')
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if exists (select 1 from pg_catalog.pg_trigger as t where t.tgrelid = p_table and t.tgname = 'audit_row_change') then
    execute format('drop trigger audit_row_change on %s', p_table);
  end if;
  execute format(
    'create trigger audit_row_change after insert or update or delete on %s for each row execute function private.audit_row_change(%s)',
    p_table,
    coalesce((select string_agg(format('%L', c), ', ') from unnest(p_excluded_columns) as c), ''));
end;
$$;

comment on function private.enable_audit(regclass, text[]) is
  'Opts a table into the audit trail: every insert, update and delete is recorded in system_audit_logs (columns in p_excluded_columns left out; updates touching only those are not recorded).';

create or replace function private.disable_audit(p_table regclass)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
  execute format('drop trigger if exists audit_row_change on %s', p_table);
end;
$$;

comment on function private.disable_audit(regclass) is 'Removes a table''s audit trigger.';

revoke execute on function private.audit_row_change() from public, anon, authenticated, service_role;
revoke execute on function private.enable_audit(regclass, text[]) from public, anon, authenticated, service_role;
revoke execute on function private.disable_audit(regclass) from public, anon, authenticated, service_role;

-- Who an entry of a trace is by: the user it was written as, else the
-- service role or a job (entries without a user are written only by them).
create or replace function private.trace_writer(p_user_id uuid)
returns jsonb
language sql
immutable
security invoker
set search_path = ''
as $$
  select case when p_user_id is null then '{"type": "system", "id": null}'::jsonb
              else pg_catalog.jsonb_build_object('type', 'user', 'id', p_user_id) end;
$$;

comment on function private.trace_writer(uuid) is 'The written_by of a trace entry: {"type":"user","id":...} or {"type":"system","id":null}.';
revoke execute on function private.trace_writer(uuid) from public, anon, authenticated, service_role;
grant execute on function private.trace_writer(uuid) to authenticated, service_role;

-- Everything one correlation id links: the user action, the agent operations
-- it caused, errors, and (for admins) audit events. RLS decides what shows.
-- Each entry carries written_by: {"type": "user", "id": <user>} for an entry
-- a user wrote or the service role wrote for that user, else the service or
-- system actor, so a reader sees whose each entry is.
create or replace function public.get_activity_trace(p_correlation_id uuid)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select jsonb_build_object(
    'correlation_id', p_correlation_id,
    'user_activity', coalesce((select jsonb_agg(to_jsonb(u) || jsonb_build_object('written_by', private.trace_writer(u.user_id)) order by u.created_at)
                                 from public.user_activity_logs as u where u.correlation_id = p_correlation_id), '[]'::jsonb),
    'agent_activity', coalesce((select jsonb_agg(to_jsonb(a) || jsonb_build_object('written_by', private.trace_writer(a.user_id)) order by a.created_at)
                                  from public.agent_activity_logs as a where a.correlation_id = p_correlation_id), '[]'::jsonb),
    'errors', coalesce((select jsonb_agg(to_jsonb(e) || jsonb_build_object('written_by', private.trace_writer(e.user_id)) order by e.created_at)
                          from public.error_logs as e where e.correlation_id = p_correlation_id), '[]'::jsonb),
    'events', coalesce((select jsonb_agg(to_jsonb(v) || jsonb_build_object('written_by', private.trace_writer(v.user_id)) order by v.created_at)
                          from public.analytics_events as v where v.correlation_id = p_correlation_id), '[]'::jsonb),
    'audit', coalesce((select jsonb_agg(to_jsonb(s) || jsonb_build_object('written_by', jsonb_build_object('type', s.actor_type, 'id', s.actor_identifier))
                                        order by s.created_at)
                         from public.system_audit_logs as s where s.correlation_id = p_correlation_id), '[]'::jsonb));
$$;

comment on function public.get_activity_trace(uuid) is
  'Everything recorded under one correlation id: user activity, the agent operations it caused, errors, analytics events and audit events, each with written_by (the user, or the service/system actor) — each filtered by RLS (users see their own rows, admins all).';

revoke execute on function public.get_activity_trace(uuid) from public, anon, authenticated, service_role;
grant execute on function public.get_activity_trace(uuid) to authenticated, service_role;
