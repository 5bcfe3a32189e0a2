-- Log retention (observability): the purges and cleanups the seeds name, which
-- drop whole month partitions past each table's retention, and the admin view
-- of the scheduled jobs that run them.
--
-- Seeds: 002 (purge_old_activity_logs), 001 (cleanup_old_performance_metrics,
-- cleanup_old_api_logs). Mapping and choices: docs/observability.md.

-- ---------------------------------------------------------------------------
-- Whole month partitions are dropped (no per-row delete, no WAL per row, space
-- freed at once) by the partition maintenance's private.drop_partitions_before
-- (20261122010200_maintenance.sql): a row is kept at least its retention and
-- at most a month longer. Rows that fell into a default partition are deleted.
-- ---------------------------------------------------------------------------
-- The purges' injectable clock is for the service role, SQL sessions (pg_cron)
-- and tests only: an admin purges by the configured retention at the real
-- time. Whoever passes it, it is finite and not ahead of the real clock, so no
-- purge can reach current rows (and the partition drop itself never takes a
-- current or future partition: private.drop_expired_partitions).
create or replace function private.require_purge_clock(p_now timestamptz)
returns void
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  if p_now is distinct from pg_catalog.now()
     and coalesce((select auth.jwt()) ->> 'role', pg_catalog.current_setting('role', true)) in ('anon', 'authenticated') then
    raise exception 'only the service role may pass p_now' using errcode = '42501',
      hint = 'Leave p_now out: admins purge by the configured retention at the current time.';
  end if;
  if p_now is null then
    raise exception 'invalid now: required' using errcode = '22023';
  end if;
  perform private.require_time_between(p_now, 'now', '-infinity', pg_catalog.now() + private.user_time_skew());
end;
$$;

comment on function private.require_purge_clock(timestamptz) is
  'The purge clock rule: 42501 when an API user (admins too) passes a p_now other than now(); 22023 when p_now is null, infinite or ahead of the clock.';

-- The writers of correlation ids (private.correlation_writers) are kept while
-- an entry under the id can still exist: the longest retention of the six
-- partitioned tables with correlation ids, plus the month a partition may
-- outlive it and the day by which last_written_at may lag, and while an error
-- (kept until resolved) carries the id. None are purged while any of those
-- tables keeps its rows forever (no retention). Afterwards the id may be used
-- again, as when its entries are gone.
create or replace function private.purge_correlation_writers(p_now timestamptz)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_keep interval;
  v_deleted bigint;
begin
  select case when pg_catalog.count(*) = 6 and pg_catalog.count(t.retention) = 6 then pg_catalog.max(t.retention) end
    into v_keep
    from private.partitioned_tables as t
   where t.parent in ('public.user_activity_logs'::regclass, 'public.agent_activity_logs'::regclass,
                      'public.api_request_logs'::regclass, 'public.system_metrics'::regclass,
                      'public.analytics_events'::regclass, 'public.system_audit_logs'::regclass);
  if v_keep is null then
    return 0;
  end if;
  delete from private.correlation_writers as w
   where w.last_written_at < p_now - v_keep - interval '1 month 1 day'
     and not exists (select 1 from public.error_logs as e where e.correlation_id = w.correlation_id);
  get diagnostics v_deleted = row_count;
  return v_deleted;
end;
$$;

comment on function private.purge_correlation_writers(timestamptz) is
  'Deletes the writers of correlation ids last written longer ago than the longest retention of the tables that carry them (plus a month and a day) and under which no error log remains; returns rows removed. Run by purge_old_activity_logs (daily).';

create or replace function private.purge_old_activity_logs(p_now timestamptz)
returns table (user_logs_deleted bigint, agent_logs_deleted bigint, error_logs_deleted bigint)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_days jsonb;
begin
  perform private.require_operator('purge logs');
  perform private.require_purge_clock(p_now);
  v_days := private.get_logging_config() -> 'log_retention_days';
  -- keep the partition registry's retention equal to the settings, so the
  -- daily partition-maintenance job applies the same horizon
  update private.partitioned_tables as t
     set retention = pg_catalog.make_interval(days => (v_days ->> 'user_activity_logs')::integer)
   where t.parent = 'public.user_activity_logs'::regclass;
  update private.partitioned_tables as t
     set retention = pg_catalog.make_interval(days => (v_days ->> 'agent_activity_logs')::integer)
   where t.parent = 'public.agent_activity_logs'::regclass;

  user_logs_deleted := private.drop_partitions_before('public.user_activity_logs',
    p_now - pg_catalog.make_interval(days => (v_days ->> 'user_activity_logs')::integer));
  agent_logs_deleted := private.drop_partitions_before('public.agent_activity_logs',
    p_now - pg_catalog.make_interval(days => (v_days ->> 'agent_activity_logs')::integer));
  delete from public.error_logs as e
   where e.resolved
     and e.created_at < p_now - pg_catalog.make_interval(days => (v_days ->> 'error_logs')::integer);
  get diagnostics error_logs_deleted = row_count;
  perform private.purge_correlation_writers(p_now);
  return next;
end;
$$;

comment on function private.purge_old_activity_logs(timestamptz) is 'Worker behind public.purge_old_activity_logs (definer: dropping partitions needs the owner).';

create or replace function public.purge_old_activity_logs(p_now timestamptz default now())
returns table (user_logs_deleted bigint, agent_logs_deleted bigint, error_logs_deleted bigint)
language sql
volatile
security invoker
set search_path = ''
as $$
  select * from private.purge_old_activity_logs(p_now);
$$;

comment on function public.purge_old_activity_logs(timestamptz) is
  'Applies logging_settings.log_retention_days (seed 002): drops user and agent activity partitions past retention, deletes resolved error logs past retention; returns the row counts. Admins and the service role; pg_cron runs it daily. p_now: service role only (42501 for admins), never ahead of the clock; no current or future partition is ever dropped.';

create or replace function private.cleanup_registered(p_parent regclass, p_default interval, p_now timestamptz)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  perform private.require_operator('clean up logs');
  perform private.require_purge_clock(p_now);
  return private.drop_partitions_before(p_parent,
    p_now - coalesce((select t.retention from private.partitioned_tables as t where t.parent = p_parent), p_default));
end;
$$;

comment on function private.cleanup_registered(regclass, interval, timestamptz) is
  'Drops the partitions of a registered table past its registered retention (p_default if none); returns rows removed.';

create or replace function public.cleanup_old_performance_metrics(p_now timestamptz default now())
returns bigint
language sql
volatile
security invoker
set search_path = ''
as $$
  select private.cleanup_registered('public.system_metrics', interval '90 days', p_now);
$$;

comment on function public.cleanup_old_performance_metrics(timestamptz) is
  'Seed 001: removes metrics (system_metrics, which holds seed 001''s performance metrics) older than their retention (90 days) by dropping month partitions; returns rows removed. Admins and the service role; pg_cron runs it daily.';

create or replace function public.cleanup_old_api_logs(p_now timestamptz default now())
returns bigint
language sql
volatile
security invoker
set search_path = ''
as $$
  select private.cleanup_registered('public.api_request_logs', interval '30 days', p_now);
$$;

comment on function public.cleanup_old_api_logs(timestamptz) is
  'Seed 001: removes API request logs older than their retention (30 days) by dropping month partitions; returns rows removed. Admins and the service role; pg_cron runs it daily.';

-- Admin view of the machinery: the scheduled jobs with their last run.
create or replace function private.get_scheduled_jobs()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform private.require_operator('read scheduled jobs');
  return coalesce((select jsonb_agg(to_jsonb(s) order by s.jobname) from private.scheduled_job_status as s), '[]'::jsonb);
end;
$$;

comment on function private.get_scheduled_jobs() is 'Reader behind public.get_scheduled_jobs.';

create or replace function public.get_scheduled_jobs()
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select private.get_scheduled_jobs();
$$;

comment on function public.get_scheduled_jobs() is
  'Every pg_cron job (partition maintenance, purges, cleanups, metric refresh) with its schedule and last run, as a JSON array. Admins and the service role.';

revoke execute on function private.require_purge_clock(timestamptz) from public, anon, authenticated, service_role;
grant execute on function private.require_purge_clock(timestamptz) to authenticated, service_role;

revoke execute on function private.purge_correlation_writers(timestamptz) from public, anon, authenticated, service_role;

revoke execute on function
  private.purge_old_activity_logs(timestamptz),
  public.purge_old_activity_logs(timestamptz),
  private.cleanup_registered(regclass, interval, timestamptz),
  public.cleanup_old_performance_metrics(timestamptz),
  public.cleanup_old_api_logs(timestamptz),
  private.get_scheduled_jobs(),
  public.get_scheduled_jobs()
  from public, anon, authenticated, service_role;
grant execute on function
  private.purge_old_activity_logs(timestamptz),
  public.purge_old_activity_logs(timestamptz),
  private.cleanup_registered(regclass, interval, timestamptz),
  public.cleanup_old_performance_metrics(timestamptz),
  public.cleanup_old_api_logs(timestamptz),
  private.get_scheduled_jobs(),
  public.get_scheduled_jobs()
  to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- Scheduling (cron.schedule upserts by name: re-running is harmless).
-- ---------------------------------------------------------------------------
select cron.schedule('purge-old-activity-logs', '30 3 * * *', 'select * from public.purge_old_activity_logs()');
select cron.schedule('cleanup-old-performance-metrics', '40 3 * * *', 'select public.cleanup_old_performance_metrics()');
select cron.schedule('cleanup-old-api-logs', '50 3 * * *', 'select public.cleanup_old_api_logs()');
