-- Places: nearby search against known distances, visibility per role,
-- validation, and the route cache with expiry.
begin;
select plan(55);

select tests.create_supabase_user('plc_alice');
select tests.create_supabase_user('plc_bob');
select tests.create_supabase_user('plc_admin', app_metadata => '{"role":"admin"}');
select tests.create_supabase_user('plc_quota');

select ok(exists (select 1 from pg_catalog.pg_extension as e join pg_catalog.pg_namespace as n on n.oid = e.extnamespace
                   where e.extname = 'postgis' and n.nspname = 'extensions'), 'PostGIS is installed in the extensions schema');

-- Known geometry around Kigali (-1.9441, 30.0619). On the equator-near
-- spheroid, 0.01 degree of latitude is about 1105.7 m.
insert into public.locations (id, user_id, name, category, lat, lng, is_public) values
  ('00000000-0000-4000-b000-000000000001', null, 'Centre', 'landmark', -1.9441, 30.0619, true),
  ('00000000-0000-4000-b000-000000000002', null, 'North 1.1 km', 'landmark', -1.9341, 30.0619, true),
  ('00000000-0000-4000-b000-000000000003', null, 'North 5.5 km', 'landmark', -1.8941, 30.0619, true),
  ('00000000-0000-4000-b000-000000000004', tests.get_supabase_uid('plc_alice'), 'Alice home', 'home', -1.9451, 30.0619, false),
  ('00000000-0000-4000-b000-000000000005', tests.get_supabase_uid('plc_bob'), 'Bob home', 'home', -1.9431, 30.0619, false);

select tests.authenticate_as('plc_alice');
select results_eq(
  $$select name from public.find_nearby_locations(-1.9441, 30.0619, 2000)$$,
  $$values ('Centre'::text), ('Alice home'), ('North 1.1 km')$$,
  'nearby search returns public places and one''s own within the radius, nearest first');
select ok((select abs(distance_meters - 1105.7) < 1 from public.find_nearby_locations(-1.9441, 30.0619, 2000) where name = 'North 1.1 km'),
  'the distance to a point 0.01 degree north is 1105.7 m (spheroid), within a metre');
select is((select distance_meters from public.find_nearby_locations(-1.9441, 30.0619, 2000) where name = 'Centre'), 0::double precision,
  'the distance to the same point is 0');
select is((select count(*)::int from public.find_nearby_locations(-1.9441, 30.0619, 1105)), 2,
  'the radius is a hard limit: 1105 m excludes the point 1105.7 m away');
select is((select count(*)::int from public.find_nearby_locations(-1.9441, 30.0619, 6000)), 4, 'a 6 km radius reaches the 5.5 km point');
select is((select count(*)::int from public.find_nearby_locations(-1.9441, 30.0619, 6000, p_limit => 2)), 2, 'p_limit caps the result');
select is((select address from public.find_nearby_locations(-1.9441, 30.0619, 10) limit 1), '', 'a missing address comes back as an empty string');

select throws_ok($$select * from public.find_nearby_locations(91, 30, 100)$$, '22023', 'invalid p_lat: must be between -90 and 90', 'latitude above 90 is rejected');
select throws_ok($$select * from public.find_nearby_locations(0, -181, 100)$$, '22023', 'invalid p_lng: must be between -180 and 180', 'longitude below -180 is rejected');
select throws_ok($$select * from public.find_nearby_locations(0, 0, 0)$$, '22023', 'invalid p_radius_meters: must be above 0 and at most 50000', 'a zero radius is rejected');
select throws_ok($$select * from public.find_nearby_locations(0, 0, 50001)$$, '22023', null, 'a radius above 50 km is rejected');
select throws_ok($$select * from public.find_nearby_locations(0, 0, 'NaN')$$, '22023', null, 'a NaN radius is rejected');
select throws_ok($$select * from public.find_nearby_locations(0, 0, 10, 0)$$, '22023', 'invalid p_limit: 1 to 500', 'a zero limit is rejected');

-- writing places
select lives_ok($$insert into public.locations (name, lat, lng) values ('Office', -1.95, 30.06)$$, 'a user adds a private place of their own');
select is((select user_id from public.locations where name = 'Office'), tests.get_supabase_uid('plc_alice'), 'user_id defaults to the caller');
select throws_ok($$insert into public.locations (name, lat, lng, is_public) values ('Spam', 0, 0, true)$$, '42501', null,
  'a user cannot publish a place');
select throws_ok(format($$insert into public.locations (user_id, name, lat, lng) values (%L, 'Forged', 0, 0)$$, tests.get_supabase_uid('plc_bob')),
  '42501', null, 'a user cannot add a place for someone else');
select throws_ok($$insert into public.locations (name, lat, lng) values ('Nowhere', 95, 0)$$, '23514', null, 'an out-of-range latitude is rejected by the table');
select is_empty($$update public.locations set name = 'Mine now' where name = 'Bob home' returning id$$, 'a user cannot edit another user''s place');
-- NaN sorts above every number and passes ">= x" tests; the range checks refuse it and +/-Infinity.
select throws_ok($$insert into public.locations (name, lat, lng) values ('Nan', 'NaN', 0)$$, '23514', null, 'a NaN latitude is refused by the table');
select throws_ok($$insert into public.locations (name, lat, lng) values ('Inf', 0, 'Infinity')$$, '23514', null, 'an infinite longitude is refused by the table');
select throws_ok($$update public.locations set lat = 'NaN' where name = 'Office'$$, '23514', null, '... also on update');
select throws_ok($$select * from public.find_nearby_locations('NaN', 0, 100)$$, '22023', 'invalid p_lat: must be between -90 and 90', 'a NaN latitude is refused by the search');
select throws_ok($$select * from public.find_nearby_locations(0, '-Infinity', 100)$$, '22023', 'invalid p_lng: must be between -180 and 180', 'an infinite longitude is refused by the search');
-- the grant holds what the table endpoint may set: not the id, not the bookkeeping
select throws_ok($$insert into public.locations (id, name, lat, lng) values ('00000000-0000-4000-b000-0000000000aa', 'Chosen id', 0, 0)$$,
  '42501', null, 'a user cannot choose a place''s id');
select throws_ok($$insert into public.locations (name, lat, lng, created_at) values ('Backdated', 0, 0, '2000-01-01')$$,
  '42501', null, 'nor its created_at');
select throws_ok($$update public.locations set id = gen_random_uuid() where name = 'Office'$$, '42501', null, 'nor change its id');
select is_empty($$delete from public.locations where name = 'Centre' returning id$$, 'a user cannot delete a public place');

select tests.authenticate_as('plc_bob');
select is((select count(*)::int from public.find_nearby_locations(-1.9441, 30.0619, 2000) where name like 'Alice%'), 0,
  'another user''s private place is not found');

select tests.authenticate_as('plc_admin');
select is((select count(*)::int from public.find_nearby_locations(-1.9441, 30.0619, 2000)), 5, 'an admin finds every place, private ones included');
select lives_ok($$insert into public.locations (name, lat, lng, is_public) values ('Airport', -1.9686, 30.1395, true)$$, 'an admin publishes a place');
select throws_ok(format($$insert into public.locations (user_id, name, lat, lng) values (%L, 'Planted', 0, 0)$$, tests.get_supabase_uid('plc_bob')),
  '42501', null, 'not even an admin creates a place owned by another user');

select tests.authenticate_as_service_role();
select is((select count(*)::int from public.find_nearby_locations(-1.9441, 30.0619, 2000)), 5, 'the service role finds every place');

-- Each place a user inserts costs one of their plan's writes (basic: 120 a minute).
select tests.authenticate_as('plc_quota');
set local app.usage_now = '2026-03-12 09:00:00+00';
select lives_ok($$insert into public.locations (name, lat, lng) select 'Q' || n, 0, 0 from generate_series(1, 120) as n$$,
  'a basic user inserts 120 places in a minute');
select throws_ok($$insert into public.locations (name, lat, lng) values ('One too many', 0, 0)$$, 'PT429', null,
  'the 121st is refused with PT429 (HTTP 429)');
select tests.authenticate_as_service_role();
select lives_ok($$insert into public.locations (name, lat, lng) select 'S' || n, 0, 0 from generate_series(1, 200) as n$$,
  'the service role is not limited');
reset app.usage_now;

select tests.clear_authentication();
select throws_ok($$select * from public.find_nearby_locations(0, 0, 100)$$, '42501', null, 'anon cannot search');
select throws_ok($$select public.get_cached_route(0, 0, 1, 1)$$, '42501', null, 'anon cannot read the route cache');

-- ---------------------------------------------------------------------------
-- Route cache
-- ---------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select is((public.cache_route(-1.9441, 30.0619, -1.9686, 30.1395, 9800, 1200, p_geometry => 'abc', p_now => now())).distance_meters,
  9800::double precision, 'the service role caches a route');
select is((public.cache_route(-1.944104, 30.061901, -1.9686, 30.1395, 9700, 1100, p_now => now())).distance_meters, 9700::double precision,
  'points within the key''s rounding replace the same entry');
select is((select count(*)::int from public.routes), 1, '... so there is one route');
select throws_ok($$select public.cache_route(0, 0, 0, 0, -1, 1)$$, '22023', 'invalid distance or duration: must be zero or more', 'a negative distance is rejected');
select throws_ok($$select public.cache_route(0, 0, 0, 0, 'NaN', 1)$$, '22023', 'invalid p_distance_meters: must be a finite number', 'a NaN distance is rejected');
select throws_ok($$select public.cache_route(0, 0, 0, 0, 1, 'Infinity')$$, '22023', 'invalid p_duration_seconds: must be a finite number', 'an infinite duration is rejected');
select throws_ok($$select public.cache_route('NaN', 0, 0, 0, 1, 1)$$, '22023', 'invalid latitude: must be between -90 and 90', 'a NaN coordinate is rejected');
select throws_ok($$select public.cache_route(0, 0, 0, 0, 1, 1, p_now => 'infinity')$$, '22023', null, 'an infinite clock is rejected');
select throws_ok($$insert into public.routes (origin_lat, origin_lng, destination_lat, destination_lng, distance_meters, duration_seconds, expires_at)
                   values (0, 0, 1, 1, 'NaN', 1, now() + interval '1 day')$$, '23514', null, 'the table refuses a NaN distance, whoever writes it');
select throws_ok($$insert into public.routes (origin_lat, origin_lng, destination_lat, destination_lng, distance_meters, duration_seconds, expires_at)
                   values (0, 0, 1, 1, 1, 1, 'infinity')$$, '23514', null, '... and an infinite expiry');

select tests.authenticate_as('plc_alice');
select is((public.get_cached_route(-1.9441, 30.0619, -1.9686, 30.1395)).duration_seconds, 1100::double precision, 'a user reads a cached route');
select is((public.get_cached_route(-1.9441, 30.0619, -1.9686, 30.1395, 'walking')).id, null, 'another profile is a miss');
select throws_ok($$select public.cache_route(0, 0, 1, 1, 1, 1)$$, '42501', null, 'users cannot write the cache');

select tests.reset_role();
update public.routes set expires_at = now() - interval '1 second';
select tests.authenticate_as('plc_alice');
select is((public.get_cached_route(-1.9441, 30.0619, -1.9686, 30.1395)).id, null, 'an expired route is a miss');
select tests.reset_role();
select is(private.purge_expired_routes(), 1, 'the daily purge deletes expired routes');
select throws_ok($$select private.purge_expired_routes('infinity')$$, '22023', null, 'the purge refuses an infinite clock');

select * from finish();
rollback;
