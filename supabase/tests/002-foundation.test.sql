-- Foundation helpers shared by every domain.
begin;
select plan(26);

select throws_ok($$select private.encryption_key('test_key_not_set')$$, '55000',
  'encryption key test_key_not_set is not configured', 'a missing key is an error, never an empty key');
select set_config('app.test_key_short', 'too-short', true);
select throws_ok($$select private.encryption_key('test_key_short')$$, '55000', null, 'a key under 32 characters is refused');
select set_config('app.test_key_ok', repeat('k', 32), true);
select is(private.encryption_key('test_key_ok'), repeat('k', 32), 'the app.<name> setting supplies the key without Vault');

select tests.authenticate_as_service_role();
select throws_ok($$select private.encryption_key('test_key_ok')$$, '42501', null, 'not even the service role reads keys directly');
select tests.clear_authentication();
select throws_ok($$select private.encryption_key('test_key_ok')$$, '42501', null, 'anon cannot read keys');

-- Input bounds (docs/conventions.md "Bounds on input").
select tests.authenticate_as_service_role();
select is(private.require_finite(1.5::numeric, 'p_x'), 1.5::numeric, 'a finite numeric passes unchanged');
select is(private.require_finite(null::numeric, 'p_x'), null::numeric, 'null passes (optional arguments)');
select throws_ok($$select private.require_finite('NaN'::numeric, 'p_cost')$$, '22023', 'invalid p_cost: must be a finite number', 'numeric NaN is refused');
select throws_ok($$select private.require_finite('Infinity'::numeric, 'p_cost')$$, '22023', null, 'numeric Infinity is refused');
select throws_ok($$select private.require_finite('-Infinity'::double precision::numeric, 'p_value')$$, '22023', 'invalid p_value: must be a finite number', 'double -Infinity, passed as numeric, is refused');
select throws_ok($$select private.require_finite('NaN'::double precision::numeric, 'p_value')$$, '22023', null, 'double NaN, passed as numeric, is refused');

select is(private.require_time_between('2026-01-02', 'p_at', '2026-01-01', '2026-01-03'), '2026-01-02'::timestamptz, 'a time inside the window passes');
select throws_ok($$select private.require_time_between('-infinity', 'p_run_at', now() - private.user_time_skew(), now() + private.user_time_horizon())$$,
  '22023', null, '-infinity is refused');
select throws_ok($$select private.require_time_between('infinity', 'p_run_at', now(), now() + interval '1 day')$$, '22023', null, 'infinity is refused');
select throws_ok($$select private.require_time_between('2026-01-04', 'p_at', '2026-01-01', '2026-01-03')$$, '22023', null, 'past the window is refused');
select throws_ok($$select private.require_time_between('2025-12-31', 'p_at', '2026-01-01', '2026-01-03')$$, '22023', null, 'before the window is refused');

select is(private.require_json_size('{"a":1}', 'p_meta', 100), '{"a":1}'::jsonb, 'small JSON passes');
select throws_ok($$select private.require_json_size(jsonb_build_object('a', repeat('x', 200)), 'p_meta', 100)$$,
  '22023', 'invalid p_meta: at most 100 bytes of JSON', 'oversized JSON is refused');
select is(private.require_text_length('abc', 'p_name', 3), 'abc', 'text at the limit passes');
select throws_ok($$select private.require_text_length('abcd', 'p_name', 3)$$, '22023', 'invalid p_name: at most 3 characters', 'longer text is refused');

-- Time-ordered ids: the UUID version 7 layout, its first 48 bits the millisecond
-- of the clock, so ids of rows made later sort after.
create temporary table v7 as
  select private.uuid_v7() as id, pg_catalog.floor(extract(epoch from pg_catalog.clock_timestamp()) * 1000)::bigint as ms_after;
select is(substr((select id from v7)::text, 15, 1), '7', 'uuid_v7: version 7 ...');
select ok(substr((select id from v7)::text, 20, 1) in ('8', '9', 'a', 'b'), '... the RFC 4122 variant ...');
select ok(('x' || translate(substr((select id from v7)::text, 1, 13), '-', ''))::bit(48)::bigint
            between (select ms_after from v7) - 1000 and (select ms_after from v7),
  '... and the millisecond of the clock in its first 48 bits');
select pg_sleep(0.002);
select ok((select id from v7) < private.uuid_v7(), 'a later id sorts after an earlier one');
select is((select count(distinct private.uuid_v7())::int from generate_series(1, 1000)), 1000, 'a thousand ids in a row are distinct (random bits below the millisecond)');

select tests.clear_authentication();
select throws_ok($$select private.require_finite(1::numeric, 'p_x')$$, '42501', null, 'anon cannot call the helpers');

select * from finish();
rollback;
