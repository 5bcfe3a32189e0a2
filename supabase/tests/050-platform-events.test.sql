-- Platform: the event store. Append with expected versions and event-id
-- dedupe, stream reads, the commit-safe horizon, partitions, roles.
-- (Reading events other transactions commit, late or not, is in
-- tests/platform.test.ts: it needs parallel connections.)
begin;
select plan(45);

select tests.create_supabase_user('ev_alice');
select tests.create_supabase_user('ev_admin', app_metadata => '{"role":"admin"}');

select is((select relkind::text from pg_catalog.pg_class where oid = 'public.event_store'::regclass), 'p', 'event_store is partitioned');
select ok(exists (select 1 from private.partitioned_tables where parent = 'public.event_store'::regclass and retention is null),
  'its monthly partitions are kept by the maintenance job, with no retention');
select ok((select count(*) from private.list_partitions('public.event_store')) >= 4, 'partitions exist from this month ahead');

select tests.authenticate_as_service_role();

-- ---------------------------------------------------------------------------
-- Append
-- ---------------------------------------------------------------------------
create temporary table ev (name text primary key, e public.event_store) on commit drop;
grant all on ev to public;

insert into ev select 'e1', public.append_event('trip-123', 'trip', 'trip_requested', '{"from":"Downtown"}',
  p_expected_version => 0, p_correlation_id => '11111111-1111-4111-8111-111111111111');
select is(((select e from ev where name = 'e1')).version, 1::bigint, 'the first event of a stream is version 1');
select is(((select e from ev where name = 'e1')).correlation_id, '11111111-1111-4111-8111-111111111111'::uuid, 'the correlation id is stored');
select isnt(((select e from ev where name = 'e1')).event_id, null, 'an event id is generated when none is given');
select is(((select e from ev where name = 'e1')).metadata, '{}'::jsonb, 'metadata defaults to {}');

insert into ev select 'e2', public.append_event('trip-123', 'trip', 'trip_accepted', '{"driver":"d1"}', '{"source":"api"}',
  p_expected_version => 1, p_event_id => '22222222-2222-4222-8222-222222222222',
  p_causation_id => ((select e from ev where name = 'e1')).event_id);
select is(((select e from ev where name = 'e2')).version, 2::bigint, 'appending at the expected version gives the next version');
select is(((select e from ev where name = 'e2')).causation_id, ((select e from ev where name = 'e1')).event_id, 'the causation id is stored');
select is(((select e from ev where name = 'e2')).metadata, '{"source":"api"}'::jsonb, 'metadata is stored');
select cmp_ok(((select e from ev where name = 'e2')).global_position, '>', ((select e from ev where name = 'e1')).global_position,
  'global positions increase');

select throws_ok($$select public.append_event('trip-123', 'trip', 'trip_cancelled', '{}', p_expected_version => 1)$$, 'PT409',
  'wrong expected version: expected 1, stream trip/trip-123 is at version 2', 'a stale expected version is a conflict');
select throws_ok($$select public.append_event('trip-123', 'trip', 'trip_created', '{}', p_expected_version => -1)$$, 'PT409',
  'wrong expected version: expected -1, stream trip/trip-123 is at version 2', '-1 (no stream) on an existing stream is a conflict');
select is((select count(*)::int from public.event_store where aggregate_id = 'trip-123'), 2, 'conflicting appends wrote nothing');

select is((public.append_event('trip-123', 'trip', 'trip_accepted', '{"driver":"d1"}', p_event_id => '22222222-2222-4222-8222-222222222222')).global_position,
  ((select e from ev where name = 'e2')).global_position, 'the same event id again returns the stored event');
select is((public.append_event('trip-123', 'trip', 'trip_accepted', '{}', p_expected_version => 1, p_event_id => '22222222-2222-4222-8222-222222222222')).version,
  2::bigint, '... even with the expected version it had then (a retried request)');
select is((select count(*)::int from public.event_store where aggregate_id = 'trip-123'), 2, '... and stores no copy');

select is((public.append_event('trip-123', 'trip', 'trip_completed', '{"fare":5000}')).version, 3::bigint,
  'without an expected version the event goes at the end');
select is((public.append_event('trip-9', 'trip', 'trip_requested', '{}', p_expected_version => -1)).version, 1::bigint,
  '-1 (message-db''s "no stream") starts a new stream');
select is((public.append_event('user-1', 'user', 'user_registered', '{}')).version, 1::bigint, 'streams are per aggregate type and id');

-- ---------------------------------------------------------------------------
-- Read
-- ---------------------------------------------------------------------------
select is(array(select event_type from public.get_aggregate_events('trip', 'trip-123')),
  array['trip_requested', 'trip_accepted', 'trip_completed'], 'get_aggregate_events returns a stream in version order');
select is(array(select version from public.get_aggregate_events('trip', 'trip-123', p_from_version => 2)), array[2, 3]::bigint[],
  '... from a version');
select is(array(select version from public.get_aggregate_events('trip', 'trip-123', p_limit => 1)), array[1]::bigint[], '... at most p_limit');
select is_empty($$select * from public.get_aggregate_events('trip', 'no-such-trip')$$, 'an unknown stream is empty');

select public.append_event('user-1', 'user', 'user_charged', '{}', p_correlation_id => '11111111-1111-4111-8111-111111111111');
select is(array(select aggregate_type || '/' || event_type from public.get_correlated_events('11111111-1111-4111-8111-111111111111')),
  array['trip/trip_requested', 'user/user_charged'], 'get_correlated_events follows one correlation id across streams, in order');
select throws_ok($$select * from public.get_correlated_events(null)$$, '22023', 'invalid correlation id: required', 'get_correlated_events needs an id');

select is_empty($$select * from public.read_events() where aggregate_id in ('trip-123', 'trip-9', 'user-1')$$,
  'read_events does not return events of a transaction still running, not even to itself (the horizon)');
select ok((select bool_and(transaction_order >= pg_snapshot_xmin(pg_current_snapshot())::text::bigint) from public.event_store
            where aggregate_id in ('trip-123', 'trip-9', 'user-1')), '... they are all at or above the xmin horizon');
select is((select count(distinct transaction_order)::int from public.event_store where aggregate_id in ('trip-123', 'trip-9', 'user-1')), 1,
  'events of one transaction share its transaction order');

-- ---------------------------------------------------------------------------
-- Bad input
-- ---------------------------------------------------------------------------
select throws_ok($$select public.append_event('t-1', '1trip', 'x', '{}')$$, '22023',
  'invalid aggregate type: 1 to 63 letters, digits, _ . -, starting with a letter', 'a malformed aggregate type is refused');
select throws_ok($$select public.append_event('', 'trip', 'x', '{}')$$, '22023', 'invalid aggregate id: must be 1 to 200 characters', 'an empty aggregate id is refused');
select throws_ok($$select public.append_event('t-1', 'trip', 'x', '{}', (select jsonb_object_agg(n, md5(n::text)) from generate_series(1, 3000) as n))$$,
  '22023', 'invalid metadata: at most 65536 bytes of JSON', 'metadata over 64 KiB is refused');
select throws_ok($$select public.append_event('t-1', 'trip', null, '{}')$$, '22023', 'invalid event type: must be 1 to 200 characters', 'an event type is required');
select throws_ok($$select public.append_event('t-1', 'trip', 'x', null)$$, '22023', 'invalid payload: must not be null', 'a payload is required');
select throws_ok($$select public.append_event('t-1', 'trip', 'x', '{}', '[1]')$$, '22023', 'invalid metadata: must be a JSON object', 'metadata must be an object');
select throws_ok($$select public.append_event('t-1', 'trip', 'x', '{}', p_expected_version => -5)$$, '22023',
  'invalid expected version: null (any), -1 or 0 (new stream), or the stream''s current version', 'a negative expected version below -1 is refused');
select throws_ok($$select * from public.read_events(null, 0)$$, '22023',
  'invalid cursor: pass the last event''s transaction_order and global_position (0, 0 from the start)', 'read_events needs a cursor');
select throws_ok($$select * from public.get_aggregate_events('trip', 'trip-123', p_limit => 0)$$, '22023',
  'invalid limit: must be between 1 and 10000', 'get_aggregate_events refuses a zero limit');
select ok(not exists (select 1 from private.event_streams where aggregate_id = 't-1'), 'rejected appends created no stream');

select throws_ok($$insert into public.event_store (global_position, transaction_order, event_id, aggregate_type, aggregate_id, version, event_type, payload)
                   values (-1, 0, gen_random_uuid(), 'trip', 'trip-123', 4, 'forged', '{}')$$, '42501', null,
  'even the service role cannot write the event store except through append_event');

-- ---------------------------------------------------------------------------
-- Roles: the event store is the service role's
-- ---------------------------------------------------------------------------
select tests.clear_authentication();
select throws_ok($$select public.append_event('trip-123', 'trip', 'x', '{}')$$, '42501', null, 'anon cannot append');
select tests.authenticate_as('ev_alice');
select throws_ok($$select public.append_event('trip-123', 'trip', 'x', '{}')$$, '42501', null, 'a user cannot append');
select throws_ok($$select * from public.get_aggregate_events('trip', 'trip-123')$$, '42501', null, 'a user cannot read a stream');
select throws_ok($$select * from public.event_store$$, '42501', null, 'a user cannot read the table');
select tests.authenticate_as('ev_admin');
select throws_ok($$select * from public.read_events()$$, '42501', null, 'an admin user cannot read events through the API either');

select * from finish();
rollback;
