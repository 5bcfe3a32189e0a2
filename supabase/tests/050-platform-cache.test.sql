-- Platform: the cache. Key/value with TTL and tags, counters, lists, sets,
-- hashes, statistics, cleanup, and who may use it.
begin;
select plan(83);

select tests.create_supabase_user('cache_alice');
select tests.create_supabase_user('cache_admin', app_metadata => '{"role":"admin"}');

-- ---------------------------------------------------------------------------
-- Storage
-- ---------------------------------------------------------------------------
select is((select relpersistence from pg_catalog.pg_class where oid = 'private.cache_entries'::regclass), 'u',
  'cache entries live in an unlogged table');
select ok(exists (select 1 from cron.job where jobname = 'cache-cleanup' and command = 'select public.cleanup_expired_cache()'),
  'expired entries are cleaned up by the pg_cron job cache-cleanup');

-- ---------------------------------------------------------------------------
-- get / set / delete (service role)
-- ---------------------------------------------------------------------------
select tests.authenticate_as_service_role();

select lives_ok($$select public.set_cache('t:user:1:profile', '{"name":"John"}', 3600, array['user', 'user:1'], '2026-01-01 00:00+00')$$,
  'set_cache stores a value with a TTL and tags');
select is(public.get_cache('t:user:1:profile', '2026-01-01 00:10+00'), '{"name":"John"}'::jsonb, 'get_cache returns it');
select is(public.get_cache('t:user:1:profile', '2026-01-01 01:00+00'), null, 'an entry past its TTL reads as a miss');
select is(public.get_cache('t:nothing-here'), null, 'a missing key reads as a miss (null), like an expired one');

select lives_ok($$select public.set_cache('t:user:1:profile', '{"name":"Jane"}', null, '{}', '2026-01-01 00:00+00')$$,
  'set_cache replaces an entry');
select is(public.get_cache('t:user:1:profile', '2099-01-01 00:00+00'), '{"name":"Jane"}'::jsonb, 'a null TTL never expires');
select is((select tags from private.cache_entries where key = 't:user:1:profile'), '{}'::text[], 'replacing drops the old tags');

select lives_ok($$select public.set_cache('t:null', 'null'::jsonb)$$, 'JSON null can be stored');
select is(public.get_cache('t:null'), 'null'::jsonb, '... and reads back as JSON null, not as a miss');

select is(public.delete_cache('t:null'), true, 'delete_cache removes a key and says it existed');
select is(public.delete_cache('t:null'), false, '... and false when there was nothing');
select is(public.get_cache('t:null'), null, 'a deleted key is a miss');

select public.set_cache('t:video:456:meta', '1'), public.set_cache('t:video:456:chapters', '2'), public.set_cache('t:video:4567', '3');
select is(public.delete_cache_by_prefix('t:video:456:'), 2, 'delete_cache_by_prefix removes exactly the keys with that prefix');
select is(public.get_cache('t:video:4567'), '3'::jsonb, '... and nothing else');

-- ---------------------------------------------------------------------------
-- Tags
-- ---------------------------------------------------------------------------
select public.set_cache('t:student:1:progress', '{"p":1}', 600, array['student:1']);
select public.set_cache('t:student:1:plan', '{"p":2}', 600, array['student:1', 'membership:1']);
select public.set_cache('t:student:2:progress', '{"p":3}', 600, array['student:2']);
select cmp_ok(public.invalidate_cache_by_tag('student:1'), '>=', 1::bigint, 'invalidate_cache_by_tag returns the tag''s new version');
select is(public.get_cache('t:student:1:progress'), null, 'an entry with the invalidated tag is a miss at once');
select is(public.get_cache('t:student:1:plan'), null, '... whichever of its tags was invalidated');
select is(public.get_cache('t:student:2:progress'), '{"p":3}'::jsonb, 'entries with other tags are untouched');
select lives_ok($$select public.set_cache('t:student:1:progress', '{"p":9}', 600, array['student:1'])$$, 'a value written after the invalidation ...');
select is(public.get_cache('t:student:1:progress'), '{"p":9}'::jsonb, '... is a hit');

-- ---------------------------------------------------------------------------
-- Counters
-- ---------------------------------------------------------------------------
select is(public.increment_cache('t:rl:user:chat', 60, 1, '2026-01-01 00:00:00+00'), 1::bigint, 'increment_cache starts a counter at 1');
select is(public.increment_cache('t:rl:user:chat', 60, 1, '2026-01-01 00:00:30+00'), 2::bigint, '... and adds to it');
select is(public.increment_cache('t:rl:user:chat', 60, 5, '2026-01-01 00:00:59+00'), 7::bigint, '... by any amount');
select is((select expires_at from private.cache_entries where key = 't:rl:user:chat'), '2026-01-01 00:01:00+00'::timestamptz,
  'the TTL is fixed when the counter starts (a window), not extended');
select is(public.increment_cache('t:rl:user:chat', 60, 1, '2026-01-01 00:01:00+00'), 1::bigint, 'an expired counter starts again');
select public.set_cache('t:number', '41');
select is(public.increment_cache('t:number'), 42::bigint, 'a stored integer can be incremented');
select throws_ok($$select public.increment_cache('t:user:1:profile')$$, '22023', 'cache key t:user:1:profile does not hold an integer',
  'incrementing a non-number is refused');
select is(public.get_cache('t:user:1:profile', '2099-01-01 00:00+00'), '{"name":"Jane"}'::jsonb, '... and leaves it as it was');

-- ---------------------------------------------------------------------------
-- Lists, sets, hashes (seed 003)
-- ---------------------------------------------------------------------------
select is(public.cache_list_push('t:queue', '"item1"'), 1, 'cache_list_push creates a list');
select is(public.cache_list_push('t:queue', '{"n":2}'), 2, '... appends and returns the length');
select is(public.cache_list_push('t:queue', '[3]'), 3, '... an array is one item');
select is(public.cache_list_pop('t:queue'), '"item1"'::jsonb, 'cache_list_pop takes the oldest item first');
select is(public.cache_list_pop('t:queue'), '{"n":2}'::jsonb, '... then the next');
select is(public.cache_list_pop('t:queue'), '[3]'::jsonb, '... then the last');
select is(public.cache_list_pop('t:queue'), null, 'popping an empty list gives null');
select ok(not exists (select 1 from private.cache_entries where key = 't:queue'), 'an emptied list is removed');
select throws_ok($$select public.cache_list_push('t:number', '1')$$, '22023', 'cache key t:number does not hold a list',
  'pushing onto a non-list is refused');
select throws_ok($$select public.cache_list_pop('t:number')$$, '22023', 'cache key t:number does not hold a list',
  'popping a non-list is refused');

select is(public.cache_set_add('t:uniqueUsers', array['user1', 'user2']), 2, 'cache_set_add creates a set');
select is(public.cache_set_add('t:uniqueUsers', array['user2', 'user3']), 3, '... and adds only new members');
select is(public.cache_set_members('t:uniqueUsers'), array['user1', 'user2', 'user3'], 'cache_set_members lists them, sorted');
select is(public.cache_set_members('t:no-set'), '{}'::text[], 'a missing set has no members');
select throws_ok($$select public.cache_set_members('t:number')$$, '22023', 'cache key t:number does not hold a set',
  'reading a non-set as a set is refused');

select lives_ok($$select public.cache_hash_set('t:userPrefs', 'theme', '"dark"')$$, 'cache_hash_set sets a field');
select lives_ok($$select public.cache_hash_set('t:userPrefs', 'lang', '"en"')$$, '... and another');
select is(public.cache_hash_get('t:userPrefs', 'theme'), '"dark"'::jsonb, 'cache_hash_get reads a field');
select is(public.cache_hash_get('t:userPrefs', 'font'), null, 'a missing field is null');
select throws_ok($$select public.cache_hash_set('t:uniqueUsers', 'x', '1')$$, '22023', 'cache key t:uniqueUsers does not hold a hash',
  'writing a field into a non-hash is refused');

-- ---------------------------------------------------------------------------
-- Statistics and cleanup
-- ---------------------------------------------------------------------------
create temporary table stats_before on commit drop as select hits, misses from public.cache_stats;
select public.get_cache('t:video:4567'), public.get_cache('t:video:4567'), public.get_cache('t:absent');
select is((select s.hits - b.hits from public.cache_stats as s, stats_before as b), 2::bigint, 'every hit is counted');
select is((select s.misses - b.misses from public.cache_stats as s, stats_before as b), 1::bigint, 'every miss is counted');

select public.set_cache('t:short', '1', 10, '{}', '2026-01-01 00:00+00');
select ok(public.cleanup_expired_cache('2026-06-01 00:00+00') >= 3,
  'cleanup_expired_cache deletes expired and tag-invalidated entries and says how many');
select ok(not exists (select 1 from private.cache_entries where key in ('t:short', 't:student:1:plan')),
  '... both kinds are gone');
select ok(exists (select 1 from private.cache_entries where key = 't:student:1:progress'), '... the rewritten entry stays');
select is((select recorded_at from private.cache_statistics order by id desc limit 1), '2026-06-01 00:00+00'::timestamptz,
  'each cleanup records a cache_statistics row (seed 001)');
select is((select purge_pending from private.cache_tag_versions where tag = 'student:1'), false, 'the purged tag is done');

-- ---------------------------------------------------------------------------
-- Bad input: a specific SQLSTATE, a clear message, nothing written
-- ---------------------------------------------------------------------------
select throws_ok($$select public.set_cache(null, '1')$$, '22023', 'invalid key: must be 1 to 512 characters', 'a null key is refused');
select throws_ok($$select public.set_cache(repeat('k', 513), '1')$$, '22023', 'invalid key: must be 1 to 512 characters', 'a 513-character key is refused');
select throws_ok($$select public.set_cache('t:bad', null)$$, '22023', 'invalid value: must not be null (store JSON null as ''null''::jsonb)', 'a SQL null value is refused');
select throws_ok($$select public.set_cache('t:big', (select jsonb_agg(md5(n::text)) from generate_series(1, 40000) as n))$$, '22023',
  'invalid value: at most 1048576 bytes of JSON', 'a value over 1 MiB is refused');
select throws_ok($$select public.cache_list_push('t:big', (select jsonb_agg(md5(n::text)) from generate_series(1, 40000) as n))$$, '22023',
  'invalid value: at most 1048576 bytes of JSON', '... also pushed onto a list');
select throws_ok($$select public.set_cache('t:clock', '1', 60, p_now => 'infinity')$$, '22023', null,
  'an infinite clock is refused (the entry would never expire)');
select throws_ok($$select public.increment_cache('t:clock', 60, p_now => '-infinity')$$, '22023', null, '... by increment_cache too');
select throws_ok($$select public.cache_hash_set('t:clock', 'f', '1', 60, p_now => 'infinity')$$, '22023', null, '... and the collections');
select throws_ok($$select public.cache_set_add('t:big', (select array_agg(md5(n::text)) from generate_series(1, 40000) as n))$$, '22023',
  'invalid members: at most 1048576 bytes of JSON', '... and members added to a set');
select throws_ok($$select public.cleanup_expired_cache('infinity')$$, '22023', null,
  'the cleanup refuses an infinite clock (it would delete every entry)');
select ok(not exists (select 1 from private.cache_entries where key in ('t:big', 't:clock')), 'refused writes stored nothing');
select throws_ok($$select public.set_cache('t:bad', '1', 0)$$, '22023', 'invalid ttl: p_ttl_seconds must be between 1 and 31536000 (a year), or null for no expiry', 'a zero TTL is refused');
select throws_ok($$select public.set_cache('t:bad', '1', 60, array[''])$$, '22023', 'invalid tags: at most 32 tags of 1 to 200 characters', 'an empty tag is refused');
select throws_ok($$select public.get_cache(null)$$, '22023', 'invalid key: must be 1 to 512 characters', 'get_cache with a null key is refused');
select throws_ok($$select public.delete_cache_by_prefix('t')$$, '22023', 'invalid prefix: must be 3 to 512 characters', 'a too-short prefix is refused');
select throws_ok($$select public.invalidate_cache_by_tag('')$$, '22023', 'invalid tag: must be 1 to 200 characters', 'an empty tag cannot be invalidated');
select ok(not exists (select 1 from private.cache_entries where key = 't:bad'), 'rejected calls wrote nothing');

-- ---------------------------------------------------------------------------
-- Nobody but the service role (and server-side code)
-- ---------------------------------------------------------------------------
select tests.clear_authentication();
select throws_ok($$select public.get_cache('t:video:4567')$$, '42501', null, 'anon cannot read the cache');
select tests.authenticate_as('cache_alice');
select throws_ok($$select public.get_cache('t:video:4567')$$, '42501', null, 'a user cannot read the cache');
select throws_ok($$select public.set_cache('t:video:4567', '"mine"')$$, '42501', null, 'a user cannot write the cache');
select throws_ok($$select * from private.cache_entries$$, '42501', null, 'a user cannot read the cache table');
select throws_ok($$select * from public.cache_stats$$, '42501', null, 'a user cannot read cache_stats');
select tests.authenticate_as('cache_admin');
select throws_ok($$select public.invalidate_cache_by_tag('student:2')$$, '42501', null, 'an admin user cannot call the cache RPCs either');

-- ---------------------------------------------------------------------------
-- Every service-only platform RPC, for every role: execute for the service
-- role only (admins are `authenticated`, so this covers them and other users).
-- ---------------------------------------------------------------------------
select tests.reset_role();
create temporary table service_only_rpcs on commit drop as
select p.oid::regprocedure as fn
  from pg_catalog.pg_proc as p
 where p.pronamespace = 'public'::regnamespace
   and p.proname in ('set_cache', 'get_cache', 'delete_cache', 'delete_cache_by_prefix', 'invalidate_cache_by_tag',
                     'increment_cache', 'cache_list_push', 'cache_list_pop', 'cache_set_add', 'cache_set_members',
                     'cache_hash_set', 'cache_hash_get', 'cleanup_expired_cache', 'create_queue', 'enqueue_job',
                     'claim_jobs', 'complete_job', 'fail_job', 'extend_job_lease', 'requeue_job', 'requeue_dead_jobs',
                     'get_queue_metrics', 'mark_message_processed', 'cleanup_old_job_queue_records',
                     'append_event', 'get_aggregate_events', 'read_events', 'get_correlated_events');
select is((select count(*)::int from service_only_rpcs), 28, 'the 28 service-only platform RPCs exist');
select is_empty($$
  select fn::text from service_only_rpcs
   where has_function_privilege('anon', fn, 'execute') or has_function_privilege('authenticated', fn, 'execute')
      or not has_function_privilege('service_role', fn, 'execute')
$$, 'each is executable by the service role and by neither anon nor signed-in users (admins included)');
select is_empty($$
  select p.oid::regprocedure::text from pg_catalog.pg_proc as p
   where p.pronamespace = 'public'::regnamespace
     and p.proname in ('schedule_job', 'cancel_job', 'list_jobs', 'get_job')
     and (has_function_privilege('anon', p.oid, 'execute') or not has_function_privilege('authenticated', p.oid, 'execute')
          or not has_function_privilege('service_role', p.oid, 'execute'))
$$, 'the user-facing job RPCs are for signed-in users and the service role, not anon');

select * from finish();
rollback;
