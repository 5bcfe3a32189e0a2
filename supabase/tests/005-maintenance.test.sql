-- Partition maintenance: partitions made ahead, a default so no insert fails,
-- rows rescued from the default, retention by dropping whole partitions, and
-- the daily pg_cron job. The clock is p_now throughout, in the past: no clock
-- ever drops a partition that has not ended by the real clock.
begin;
select plan(30);

create table private.test_events (
  id uuid not null default gen_random_uuid(),
  created_at timestamptz not null,
  payload text,
  primary key (id, created_at)
) partition by range (created_at);

select throws_ok($$select private.ensure_partitions('private.partitioned_tables'::regclass)$$, '22023',
  'ensure_partitions: private.partitioned_tables is not a partitioned table', 'a plain table is rejected');

select lives_ok($$select private.register_partitioned_table('private.test_events', p_premake => 3, p_retention => interval '90 days')$$,
  'registering a table creates its partitions');
-- register used now(); a past layout with a fixed clock for exact names
-- (partitions of 2020-2021 and 2030 are compared; the current ones stay aside)
select is(private.drop_expired_partitions('private.test_events', interval '1 day', '2100-01-01'), 0,
  'a far clock drops no current or future partition');
select is(private.drop_expired_partitions('private.test_events', interval '0', 'infinity'), 0,
  'nor does an infinite one with no retention');
select ok(exists (select 1 from private.list_partitions('private.test_events') where range_from = private.month_start(now())),
  'the current month''s partition is still there');
select is(private.ensure_partitions('private.test_events', 3, '2020-11-15'), 4, 'four monthly partitions from the month of p_now');
select is(private.ensure_partitions('private.test_events', 3, '2020-11-15'), 0, 'a second run creates nothing');
select is(
  array(select partition::text from private.list_partitions('private.test_events') where range_from < '2022-01-01' order by range_from),
  array['private.test_events_p202011', 'private.test_events_p202012', 'private.test_events_p202101', 'private.test_events_p202102'],
  'partitions are named by month');
select is(
  (select (range_from, range_to)::text from private.list_partitions('private.test_events') where partition = 'private.test_events_p202011'::regclass),
  ('2020-11-01 00:00+00'::timestamptz, '2020-12-01 00:00+00'::timestamptz)::text,
  'a partition covers one UTC month');
select ok(to_regclass('private.test_events_default') is not null, 'a default partition exists');

insert into private.test_events (created_at, payload) values
  ('2020-11-20', 'nov'), ('2020-12-10', 'dec'), ('2021-01-31 23:59:59+00', 'jan'),
  ('2001-01-01', 'ancient'), ('2030-01-05', 'far future');
select is((select count(*)::int from private.test_events_p202012), 1, 'a row goes to its month''s partition');
select is((select count(*)::int from private.test_events_default), 2, 'rows outside the made range land in the default, not in an error');

-- Maintenance that fell behind: the month now being made holds rows in the default.
select is(private.ensure_partitions('private.test_events', 0, '2030-01-01'), 1, 'the missing month is created');
select is((select payload from private.test_events_p203001), 'far future', 'its rows are moved out of the default');
select is((select count(*)::int from private.test_events_default), 1, 'the default keeps only rows of months not made');
select is((select count(*)::int from private.test_events), 5, 'no row is lost');

-- Every partition is locked down like a table of its own.
select is_empty($$
  select l.partition::text from private.list_partitions('private.test_events') as l
    join pg_class as c on c.oid = l.partition
   where not c.relrowsecurity or has_table_privilege('anon', c.oid, 'select') or has_table_privilege('authenticated', c.oid, 'select')
$$, 'partitions have RLS on and no API-role privileges');
select ok((select relrowsecurity from pg_class where oid = 'private.test_events_default'::regclass), 'so does the default');

-- Retention: whole partitions older than 90 days at 2021-04-15 go.
select is(private.drop_expired_partitions('private.test_events', interval '90 days', '2021-04-15'), 2,
  'two partitions ended before the retention horizon');
select is(
  array(select partition::text from private.list_partitions('private.test_events')
         where range_from < '2022-01-01' or range_from >= '2030-01-01' order by range_from),
  array['private.test_events_p202101', 'private.test_events_p202102', 'private.test_events_p203001'],
  'exactly the old partitions were dropped');
select is((select count(*)::int from private.test_events where payload in ('nov', 'dec')), 0, 'their rows went with them');
select is((select count(*)::int from private.test_events where payload in ('jan', 'ancient')), 2, 'newer rows and the default are kept');

-- The scheduled job runs every registered table.
select is(
  (select count(*)::int from private.run_partition_maintenance('2021-01-10') where parent = 'private.test_events'::regclass),
  1, 'run_partition_maintenance covers registered tables');
select is((select last_maintained_at from private.partitioned_tables where parent = 'private.test_events'::regclass),
  '2021-01-10'::timestamptz, 'and records when it ran');

-- Whatever the cutoff, a purge by cutoff keeps current rows and partitions.
insert into private.test_events (created_at, payload) values (now(), 'current');
select set_config('test.live_partitions', (select count(*)::text from private.list_partitions('private.test_events') where range_to > now()), true);
select lives_ok($$select private.drop_partitions_before('private.test_events', 'infinity')$$, 'a purge up to infinity runs');
select is((select count(*)::text from private.list_partitions('private.test_events') where range_to > now()),
  current_setting('test.live_partitions'), 'and leaves every partition that has not ended, 2030''s included');
select is((select count(*)::int from private.test_events where payload in ('current', 'far future')), 2, 'with their rows');
select is((select schedule from private.scheduled_job_status where jobname = 'partition-maintenance'), '17 0 * * *',
  'the daily pg_cron job is registered and visible with its last run');

-- A public parent's partitions go to private, out of the Data API's schema.
create table public.test_public_events (id uuid not null default gen_random_uuid(), created_at timestamptz not null,
  primary key (id, created_at)) partition by range (created_at);
select is(private.ensure_partitions('public.test_public_events', 1, '2026-11-15'), 2, 'partitions are made for a public parent');
select is(
  array(select c.relnamespace::regnamespace::text from pg_inherits as i join pg_class as c on c.oid = i.inhrelid
         where i.inhparent = 'public.test_public_events'::regclass group by 1),
  array['private'], 'and they live in private, not in the exposed schema');

select * from finish();
rollback;
