-- Maintenance: monthly partitions for high-volume tables, the one retention
-- mechanism for them (whole partitions dropped past each table's retention),
-- and the pg_cron job that keeps them. Shared by every domain with log-like
-- tables (observability, event store, transactions): a table opts in with
--   select private.register_partitioned_table('public.x', p_premake => 3, p_retention => interval '90 days');
--
-- Why our own functions rather than pg_partman: the maintenance we need is
-- small (create ahead, keep a default, drop past retention), it must run as
-- `postgres` on a hosted project where pg_partman's background worker and
-- schema are not ours to configure, and the behaviour is fully testable with an
-- injectable clock. Dropping a whole partition is how retention is applied:
-- it frees the space at once and writes no WAL per row.

create extension if not exists pg_cron with schema pg_catalog;

create table if not exists private.partitioned_tables (
  parent regclass primary key,
  premake_months integer not null default 3 check (premake_months between 1 and 24),
  retention interval check (retention is null or retention >= interval '1 day'),
  registered_at timestamptz not null default now(),
  last_maintained_at timestamptz
);

comment on table private.partitioned_tables is
  'Range-partitioned (monthly) tables whose partitions private.run_partition_maintenance() keeps: premake_months ahead, dropped after retention (null: kept forever).';

alter table private.partitioned_tables enable row level security;
revoke all on table private.partitioned_tables from public, anon, authenticated, service_role;

-- The first instant of the month containing p_at, in UTC.
create or replace function private.month_start(p_at timestamptz)
returns timestamptz
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.date_trunc('month', p_at at time zone 'UTC') at time zone 'UTC';
$$;

comment on function private.month_start(timestamptz) is 'The first instant (UTC) of the month containing p_at.';

-- Partitions of a parent with their range bounds, default partition excluded.
create or replace function private.list_partitions(p_parent regclass)
returns table (partition regclass, range_from timestamptz, range_to timestamptz)
language sql
stable
set search_path = ''
as $$
  select c.oid::regclass,
         (pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']+)''\)'))[1]::timestamptz,
         (pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz
    from pg_catalog.pg_inherits as i
    join pg_catalog.pg_class as c on c.oid = i.inhrelid
   where i.inhparent = p_parent
     and pg_catalog.pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
   order by 2;
$$;

comment on function private.list_partitions(regclass) is 'The range partitions of a table with their bounds (the default partition excluded).';

create or replace function private.partition_range_key(p_parent regclass)
returns text
language sql
stable
set search_path = ''
as $$
  select a.attname::text
    from pg_catalog.pg_partitioned_table as pt
    join pg_catalog.pg_attribute as a on a.attrelid = pt.partrelid and a.attnum = pt.partattrs[0]
   where pt.partrelid = p_parent and pt.partstrat = 'r';
$$;

comment on function private.partition_range_key(regclass) is
  'The column a table is range-partitioned on (its first partition key column); null when it is not range-partitioned.';

create or replace function private.default_partition(p_parent regclass)
returns regclass
language sql
stable
set search_path = ''
as $$
  select i.inhrelid::regclass
    from pg_catalog.pg_inherits as i
    join pg_catalog.pg_class as c on c.oid = i.inhrelid
   where i.inhparent = p_parent and pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT';
$$;

comment on function private.default_partition(regclass) is 'The default partition of a partitioned table, or null.';

-- Partitions are tables of their own: if anyone ever queried one directly (a
-- project whose defaults grant new tables to the API roles), the parent's RLS
-- would not apply. Lock each one down.
create or replace function private.secure_partition(p_partition regclass)
returns void
language plpgsql
set search_path = ''
as $$
begin
  execute format('alter table %s enable row level security', p_partition);
  execute format('revoke all on table %s from public, anon, authenticated, service_role', p_partition);
end;
$$;

comment on function private.secure_partition(regclass) is 'Enables RLS and revokes API-role privileges on one partition.';

-- Creates the default partition and one partition per month from the month of
-- p_now through p_premake months ahead. Partitions live in `private` whatever
-- the parent's schema: a partition is reached only through its parent, and next
-- to a public parent every month's partitions would appear in the Data API's
-- schema (in `supabase gen types` output, which would then change each month,
-- and as tables the advisors inspect). Rows already in the default partition
-- for a month being created are moved into it, so no insert ever fails and no
-- row is lost.
create or replace function private.ensure_partitions(
  p_parent regclass,
  p_premake integer default 3,
  p_now timestamptz default now()
)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_part_schema constant text := 'private';
  v_table text;
  v_key text;
  v_default regclass;
  v_from timestamptz;
  v_to timestamptz;
  v_name text;
  v_created integer := 0;
  v_moved boolean;
begin
  select c.relname into v_table from pg_catalog.pg_class as c where c.oid = p_parent and c.relkind = 'p';
  if v_table is null then
    raise exception 'ensure_partitions: % is not a partitioned table', p_parent using errcode = '22023';
  end if;
  v_key := private.partition_range_key(p_parent);
  if v_key is null then
    raise exception 'ensure_partitions: % must be range-partitioned on one column', p_parent using errcode = '22023';
  end if;

  -- lock out concurrent maintenance of the same parent
  perform private.lock_partitioned_table(p_parent);

  v_default := private.default_partition(p_parent);
  if v_default is null then
    execute format('create table %I.%I partition of %s default', v_part_schema, v_table || '_default', p_parent);
    v_default := format('%I.%I', v_part_schema, v_table || '_default')::regclass;
    perform private.secure_partition(v_default);
  end if;

  for i in 0 .. p_premake loop
    v_from := private.month_start(p_now) + pg_catalog.make_interval(months => i);
    v_to := v_from + interval '1 month';
    if exists (select 1 from private.list_partitions(p_parent) as l where l.range_from < v_to and l.range_to > v_from) then
      continue;
    end if;
    v_name := v_table || '_p' || pg_catalog.to_char(v_from at time zone 'UTC', 'YYYYMM');
    execute format('select exists (select 1 from %s where %I >= %L and %I < %L)', v_default, v_key, v_from, v_key, v_to)
      into v_moved;
    if v_moved then
      -- The default partition holds rows of this month (maintenance fell
      -- behind): lift them out, create the partition, put them back. Triggers
      -- on the new partition are off for the move: these rows were already
      -- inserted once.
      execute format('create temp table pg_temp.moving_rows (like %s) on commit drop', p_parent);
      execute format('with moved as (delete from %s where %I >= %L and %I < %L returning *) insert into pg_temp.moving_rows select * from moved',
                     v_default, v_key, v_from, v_key, v_to);
    end if;
    execute format('create table %I.%I partition of %s for values from (%L) to (%L)', v_part_schema, v_name, p_parent, v_from, v_to);
    if v_moved then
      execute format('alter table %I.%I disable trigger user', v_part_schema, v_name);
      execute format('insert into %I.%I select * from pg_temp.moving_rows', v_part_schema, v_name);
      execute format('alter table %I.%I enable trigger user', v_part_schema, v_name);
      drop table pg_temp.moving_rows;
    end if;
    perform private.secure_partition(format('%I.%I', v_part_schema, v_name)::regclass);
    v_created := v_created + 1;
  end loop;
  return v_created;
end;
$$;

comment on function private.ensure_partitions(regclass, integer, timestamptz) is
  'Creates the default partition and monthly partitions (in schema private) from the month of p_now to p_premake months ahead; moves matching rows out of the default. Returns how many were created.';

-- Drops whole partitions whose range ends at or before p_now - p_retention,
-- and never one that has not ended by the real clock: whatever clock or
-- retention a caller passes (an infinite p_now, a zero retention), the
-- current month's and pre-made future partitions stay. Every retention path
-- (the daily job, drop_partitions_before and so every purge) comes here.
create or replace function private.drop_expired_partitions(
  p_parent regclass,
  p_retention interval,
  p_now timestamptz default now()
)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_part record;
  v_dropped integer := 0;
begin
  if p_retention is null then
    return 0;
  end if;
  perform private.lock_partitioned_table(p_parent);
  for v_part in
    select l.partition from private.list_partitions(p_parent) as l
     where l.range_to <= p_now - p_retention
       and l.range_to <= pg_catalog.now()
  loop
    execute format('drop table %s', v_part.partition);
    v_dropped := v_dropped + 1;
  end loop;
  return v_dropped;
end;
$$;

comment on function private.drop_expired_partitions(regclass, interval, timestamptz) is
  'Drops the partitions whose whole range is older than p_retention at p_now, never one that has not ended by now(); returns how many. Rows in the default partition are not touched.';

-- Retention by cutoff for the purges that report what they removed (the
-- observability domain's purge_old_activity_logs and cleanups): counts the
-- rows of the partitions that end at or before p_cutoff and drops them with
-- drop_expired_partitions, then deletes the rows older than p_cutoff that fell
-- into the default partition. Under the table's lock from the count on, so
-- concurrent purges count each row once.
create or replace function private.drop_partitions_before(p_parent regclass, p_cutoff timestamptz)
returns bigint
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_part regclass;
  v_key text;
  v_n bigint;
  v_total bigint := 0;
begin
  -- registered tables only, which ensure_partitions made sure are range-partitioned
  v_key := private.partition_range_key(p_parent);
  perform private.lock_partitioned_table(p_parent);
  -- current rows are never purged (drop_expired_partitions keeps current
  -- and future partitions; the default partition keeps this month's rows)
  if p_cutoff is null then
    return 0;
  end if;
  p_cutoff := least(p_cutoff, private.month_start(pg_catalog.now()));
  for v_part in select l.partition from private.list_partitions(p_parent) as l where l.range_to <= p_cutoff loop
    execute format('select count(*) from %s', v_part) into v_n;
    v_total := v_total + v_n;
  end loop;
  perform private.drop_expired_partitions(p_parent, interval '0', p_cutoff);
  v_part := private.default_partition(p_parent);
  if v_part is not null then
    execute format('delete from %s where %I < %L', v_part, v_key, p_cutoff);
    get diagnostics v_n = row_count;
    v_total := v_total + v_n;
  end if;
  return v_total;
end;
$$;

comment on function private.drop_partitions_before(regclass, timestamptz) is
  'Drops the month partitions of p_parent that end at or before p_cutoff and deletes older rows from its default partition, never reaching past the start of the current month; returns how many rows went.';

create or replace function private.register_partitioned_table(
  p_parent regclass,
  p_premake integer default 3,
  p_retention interval default null
)
returns void
language plpgsql
set search_path = ''
as $$
begin
  insert into private.partitioned_tables (parent, premake_months, retention)
  values (p_parent, p_premake, p_retention)
  on conflict (parent) do update
    set premake_months = excluded.premake_months, retention = excluded.retention;
  perform private.ensure_partitions(p_parent, p_premake);
end;
$$;

comment on function private.register_partitioned_table(regclass, integer, interval) is
  'Opts a monthly range-partitioned table into maintenance and creates its partitions now.';

create or replace function private.run_partition_maintenance(p_now timestamptz default now())
returns table (parent regclass, created integer, dropped integer)
language plpgsql
set search_path = ''
as $$
declare
  v_t record;
begin
  for v_t in select * from private.partitioned_tables order by partitioned_tables.parent::text loop
    parent := v_t.parent;
    created := private.ensure_partitions(v_t.parent, v_t.premake_months, p_now);
    dropped := private.drop_expired_partitions(v_t.parent, v_t.retention, p_now);
    update private.partitioned_tables as t set last_maintained_at = p_now where t.parent = v_t.parent;
    return next;
  end loop;
end;
$$;

comment on function private.run_partition_maintenance(timestamptz) is
  'For every registered table: creates partitions ahead and drops those past retention. Scheduled daily by pg_cron (job partition-maintenance).';

revoke execute on function private.month_start(timestamptz) from public, anon, authenticated, service_role;
revoke execute on function private.list_partitions(regclass) from public, anon, authenticated, service_role;
revoke execute on function private.partition_range_key(regclass) from public, anon, authenticated, service_role;
revoke execute on function private.default_partition(regclass) from public, anon, authenticated, service_role;
revoke execute on function private.secure_partition(regclass) from public, anon, authenticated, service_role;
revoke execute on function private.ensure_partitions(regclass, integer, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function private.drop_expired_partitions(regclass, interval, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function private.drop_partitions_before(regclass, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function private.register_partitioned_table(regclass, integer, interval) from public, anon, authenticated, service_role;
revoke execute on function private.run_partition_maintenance(timestamptz) from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------
-- Scheduling. cron.schedule upserts by job name, so re-running is harmless.
-- ---------------------------------------------------------------------------
select cron.schedule('partition-maintenance', '17 0 * * *', 'select private.run_partition_maintenance()');

-- Each scheduled job with its last run, for operators (and the admin RPCs of
-- the observability domain).
create or replace view private.scheduled_job_status
with (security_invoker = true)
as
select j.jobid,
       j.jobname,
       j.schedule,
       j.command,
       j.active,
       r.status as last_status,
       r.start_time as last_started_at,
       r.end_time as last_finished_at,
       r.return_message as last_message
  from cron.job as j
  left join lateral (
    select d.status, d.start_time, d.end_time, d.return_message
      from cron.job_run_details as d
     where d.jobid = j.jobid
     order by d.start_time desc nulls last
     limit 1
  ) as r on true;

comment on view private.scheduled_job_status is 'Every pg_cron job of this database with its schedule and last run.';
revoke all on private.scheduled_job_status from public, anon, authenticated, service_role;
