-- Places: locations with nearby search (PostGIS) and a route cache.
--
-- Seed 004 "Cache Infrastructure": `locations` (geospatial queries with
-- PostGIS), `routes` (cached routing information), `find_nearby_locations(p_lat,
-- p_lng, p_radius_meters)`. Mapping and choices: docs/integrations.md.
--
-- PostGIS lives in `extensions`, as Supabase installs it. Positions are
-- geography(Point, 4326) derived from lat/lng by a generated column, so
-- clients write plain numbers and distances come back in metres on the
-- spheroid; a GiST index serves ST_DWithin.

create extension if not exists postgis with schema extensions;

create table if not exists public.locations (
  id uuid primary key default gen_random_uuid(),
  user_id uuid references auth.users (id) on delete cascade,
  name text not null,
  category text not null default 'place',
  address text,
  lat double precision not null,
  lng double precision not null,
  position extensions.geography(point, 4326)
    generated always as (extensions.st_setsrid(extensions.st_makepoint(lng, lat), 4326)::extensions.geography) stored,
  is_public boolean not null default false,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint locations_name_check check (char_length(name) between 1 and 200),
  constraint locations_category_check check (category ~ '^[a-z0-9_]{1,50}$'),
  constraint locations_address_check check (char_length(address) <= 500),
  -- The ranges also refuse NaN (it sorts above every number) and +/-Infinity.
  constraint locations_lat_check check (lat between -90 and 90),
  constraint locations_lng_check check (lng between -180 and 180),
  constraint locations_metadata_check check (jsonb_typeof(metadata) = 'object' and pg_column_size(metadata) <= 16384)
);

comment on table public.locations is
  'Places (seed 004 locations): a user''s own (user_id, private to them) or public ones everyone signed in can find. Searched with find_nearby_locations.';
comment on column public.locations.position is 'geography(Point, 4326) from lng/lat; GiST-indexed for nearby search.';
comment on column public.locations.is_public is 'Visible to every signed-in user. Only admins and the service role publish places.';

create index if not exists locations_position_idx on public.locations using gist (position);
create index if not exists locations_user_id_idx on public.locations (user_id);

alter table public.locations enable row level security;

create policy locations_select on public.locations
  for select to authenticated
  using (is_public or user_id = (select auth.uid()) or (select public.is_current_user_admin()));

-- Admins publish places (user_id null) or add their own; nobody creates a
-- place owned by another user.
create policy locations_insert on public.locations
  for insert to authenticated
  with check ((user_id = (select auth.uid()) and not is_public)
              or ((select public.is_current_user_admin()) and (user_id is null or user_id = (select auth.uid()))));

create policy locations_update on public.locations
  for update to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()))
  with check ((user_id = (select auth.uid()) and not is_public) or (select public.is_current_user_admin()));

create policy locations_delete on public.locations
  for delete to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));

revoke all on table public.locations from anon, authenticated, service_role;
grant select, delete on table public.locations to authenticated;
grant insert (user_id, name, category, address, lat, lng, is_public, metadata) on table public.locations to authenticated;
grant update (name, category, address, lat, lng, is_public, metadata) on table public.locations to authenticated;
grant select, insert, update, delete on table public.locations to service_role;

alter table public.locations alter column user_id set default auth.uid();

-- Users create places through the table endpoint (there is no RPC), so the
-- write quota is taken by a trigger: every row a signed-in user inserts costs
-- one of their plan's writes (private.consume_quota; no-op for the service
-- role and for database code without a JWT). PT429 (HTTP 429) when spent.
create trigger locations_write_quota
  before insert on public.locations
  for each row execute function private.consume_quota_per_row('writes');

create trigger locations_set_updated_at
  before update of name, category, address, lat, lng, is_public, metadata on public.locations
  for each row execute function private.set_updated_at();

-- ---------------------------------------------------------------------------
-- find_nearby_locations
-- ---------------------------------------------------------------------------
-- Security definer, with the visibility rule of locations_select applied in
-- the query: under RLS, PostGIS's index condition (the && operator is not
-- leakproof) may not run before the policy, so every search would scan the
-- whole table (measured: 1.5 s at 100k rows instead of about a millisecond).
create or replace function private.find_nearby_locations(
  p_lat double precision,
  p_lng double precision,
  p_radius_meters double precision,
  p_limit integer
)
returns table (
  id uuid,
  name text,
  category text,
  address text,
  lat double precision,
  lng double precision,
  is_public boolean,
  distance_meters double precision
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_point extensions.geography;
  v_uid uuid := auth.uid();
  -- private.is_service_role(), inline (a call to it cannot be inlined)
  v_all boolean := public.is_current_user_admin() or coalesce(auth.jwt() ->> 'role' = 'service_role', false);
begin
  if v_uid is null and not v_all then
    raise exception 'you must be signed in' using errcode = '42501';
  end if;
  if p_lat is null or p_lat not between -90 and 90 then
    raise exception 'invalid p_lat: must be between -90 and 90' using errcode = '22023';
  end if;
  if p_lng is null or p_lng not between -180 and 180 then
    raise exception 'invalid p_lng: must be between -180 and 180' using errcode = '22023';
  end if;
  if p_radius_meters is null or not (p_radius_meters > 0 and p_radius_meters <= 50000) then
    raise exception 'invalid p_radius_meters: must be above 0 and at most 50000' using errcode = '22023';
  end if;
  if p_limit is null or p_limit not between 1 and 500 then
    raise exception 'invalid p_limit: 1 to 500' using errcode = '22023';
  end if;
  v_point := extensions.st_setsrid(extensions.st_makepoint(p_lng, p_lat), 4326)::extensions.geography;

  -- Visible: public places, one's own; everything for admins and the service
  -- role (the rule of the policy locations_select). The index walks places
  -- nearest first (<->, sphere distance) and stops at p_limit; only those get
  -- the exact spheroid distance, by which they are then ordered.
  return query
  select n.id, n.name, n.category, n.address, n.lat, n.lng, n.is_public, n.distance_meters
    from (
      select l.id, l.name, l.category, coalesce(l.address, '') as address, l.lat, l.lng, l.is_public,
             extensions.st_distance(l.position, v_point) as distance_meters
        from public.locations as l
       where extensions.st_dwithin(l.position, v_point, p_radius_meters)
         and (l.is_public or l.user_id = v_uid or v_all)
       order by l.position operator(extensions.<->) v_point
       limit p_limit
    ) as n
   order by n.distance_meters, n.id;
end;
$$;

comment on function private.find_nearby_locations(double precision, double precision, double precision, integer) is
  'Nearby search behind public.find_nearby_locations: bypasses RLS so the GiST index is used, and applies the locations_select rule itself.';

create or replace function public.find_nearby_locations(
  p_lat double precision,
  p_lng double precision,
  p_radius_meters double precision,
  p_limit integer default 50
)
returns table (
  id uuid,
  name text,
  category text,
  address text,
  lat double precision,
  lng double precision,
  is_public boolean,
  distance_meters double precision
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  return query select * from private.find_nearby_locations(p_lat, p_lng, p_radius_meters, p_limit);
end;
$$;

comment on function public.find_nearby_locations(double precision, double precision, double precision, integer) is
  'Seed 004. Places the caller may see (public ones and their own; all for admins and the service role) within p_radius_meters (at most 50 km) of (p_lat, p_lng), nearest first, with the distance in metres on the WGS84 spheroid; at most p_limit (default 50). address is '''' when unset. Errors: 22023 invalid input, 42501 not signed in.';

-- ---------------------------------------------------------------------------
-- routes: a cache of routing results keyed by origin, destination and profile
-- ---------------------------------------------------------------------------
create table if not exists public.routes (
  id uuid primary key default gen_random_uuid(),
  origin_lat numeric(8, 5) not null,
  origin_lng numeric(8, 5) not null,
  destination_lat numeric(8, 5) not null,
  destination_lng numeric(8, 5) not null,
  profile text not null default 'driving',
  distance_meters double precision not null,
  duration_seconds double precision not null,
  geometry text,
  provider text,
  expires_at timestamptz not null,
  created_at timestamptz not null default now(),
  constraint routes_profile_check check (profile in ('driving', 'walking', 'cycling', 'transit')),
  constraint routes_origin_check check (origin_lat between -90 and 90 and origin_lng between -180 and 180),
  constraint routes_destination_check check (destination_lat between -90 and 90 and destination_lng between -180 and 180),
  -- NaN and Infinity pass ">= 0"
  constraint routes_distance_check check (distance_meters >= 0 and distance_meters not in ('NaN', 'Infinity')),
  constraint routes_duration_check check (duration_seconds >= 0 and duration_seconds not in ('NaN', 'Infinity')),
  constraint routes_expires_at_finite check (isfinite(expires_at) and isfinite(created_at)),
  constraint routes_geometry_check check (char_length(geometry) <= 100000),
  constraint routes_key unique (origin_lat, origin_lng, destination_lat, destination_lng, profile)
);

comment on table public.routes is
  'Cached routing results (seed 004 routes), keyed by origin and destination rounded to 5 decimals (about 1 m) and the travel profile, valid until expires_at. Written by the service role; expired rows are purged daily.';
comment on column public.routes.geometry is 'The route line as the provider encodes it (e.g. an encoded polyline).';

create index if not exists routes_expires_at_idx on public.routes (expires_at);

alter table public.routes enable row level security;

create policy routes_select on public.routes
  for select to authenticated
  using (true);

revoke all on table public.routes from anon, authenticated, service_role;
grant select on table public.routes to authenticated;
grant select, insert, update, delete on table public.routes to service_role;

create or replace function private.validate_route_endpoints(
  p_origin_lat double precision,
  p_origin_lng double precision,
  p_destination_lat double precision,
  p_destination_lng double precision,
  p_profile text
)
returns void
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  if p_origin_lat is null or p_origin_lat not between -90 and 90
     or p_destination_lat is null or p_destination_lat not between -90 and 90 then
    raise exception 'invalid latitude: must be between -90 and 90' using errcode = '22023';
  end if;
  if p_origin_lng is null or p_origin_lng not between -180 and 180
     or p_destination_lng is null or p_destination_lng not between -180 and 180 then
    raise exception 'invalid longitude: must be between -180 and 180' using errcode = '22023';
  end if;
  if p_profile is null or p_profile not in ('driving', 'walking', 'cycling', 'transit') then
    raise exception 'invalid p_profile: must be driving, walking, cycling or transit' using errcode = '22023';
  end if;
end;
$$;

comment on function private.validate_route_endpoints(double precision, double precision, double precision, double precision, text) is
  'Raises 22023 unless the coordinates are valid and the profile is known.';

create or replace function public.get_cached_route(
  p_origin_lat double precision,
  p_origin_lng double precision,
  p_destination_lat double precision,
  p_destination_lng double precision,
  p_profile text default 'driving'
)
returns public.routes
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_route public.routes;
begin
  perform private.validate_route_endpoints(p_origin_lat, p_origin_lng, p_destination_lat, p_destination_lng, p_profile);
  select * into v_route
    from public.routes as r
   where r.origin_lat = pg_catalog.round(p_origin_lat::numeric, 5)
     and r.origin_lng = pg_catalog.round(p_origin_lng::numeric, 5)
     and r.destination_lat = pg_catalog.round(p_destination_lat::numeric, 5)
     and r.destination_lng = pg_catalog.round(p_destination_lng::numeric, 5)
     and r.profile = p_profile
     and r.expires_at > pg_catalog.now();
  return v_route;
end;
$$;

comment on function public.get_cached_route(double precision, double precision, double precision, double precision, text) is
  'The cached, unexpired route between two points (rounded to 5 decimals) for a profile, or null on a miss. Errors: 22023 invalid input.';

create or replace function public.cache_route(
  p_origin_lat double precision,
  p_origin_lng double precision,
  p_destination_lat double precision,
  p_destination_lng double precision,
  p_distance_meters double precision,
  p_duration_seconds double precision,
  p_profile text default 'driving',
  p_geometry text default null,
  p_provider text default null,
  p_ttl_seconds integer default 86400,
  p_now timestamptz default now()
)
returns public.routes
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_route public.routes;
begin
  perform private.validate_route_endpoints(p_origin_lat, p_origin_lng, p_destination_lat, p_destination_lng, p_profile);
  perform private.require_finite(p_distance_meters::numeric, 'p_distance_meters');
  perform private.require_finite(p_duration_seconds::numeric, 'p_duration_seconds');
  perform private.platform_require_clock(p_now);
  if p_distance_meters is null or p_distance_meters < 0 or p_duration_seconds is null or p_duration_seconds < 0 then
    raise exception 'invalid distance or duration: must be zero or more' using errcode = '22023';
  end if;
  if p_ttl_seconds is null or p_ttl_seconds not between 1 and 2592000 then
    raise exception 'invalid p_ttl_seconds: 1 to 2592000 (30 days)' using errcode = '22023';
  end if;
  if char_length(p_geometry) > 100000 then
    raise exception 'invalid p_geometry: at most 100000 characters' using errcode = '22023';
  end if;
  perform private.require_text_length(p_provider, 'p_provider', 100);

  insert into public.routes as r (origin_lat, origin_lng, destination_lat, destination_lng, profile,
                                  distance_meters, duration_seconds, geometry, provider, expires_at, created_at)
  values (pg_catalog.round(p_origin_lat::numeric, 5), pg_catalog.round(p_origin_lng::numeric, 5),
          pg_catalog.round(p_destination_lat::numeric, 5), pg_catalog.round(p_destination_lng::numeric, 5), p_profile,
          p_distance_meters, p_duration_seconds, p_geometry, p_provider,
          p_now + pg_catalog.make_interval(secs => p_ttl_seconds), p_now)
  on conflict on constraint routes_key do update
    set distance_meters = excluded.distance_meters,
        duration_seconds = excluded.duration_seconds,
        geometry = excluded.geometry,
        provider = excluded.provider,
        expires_at = excluded.expires_at,
        created_at = excluded.created_at
  returning * into v_route;
  return v_route;
end;
$$;

comment on function public.cache_route(double precision, double precision, double precision, double precision, double precision, double precision, text, text, text, integer, timestamptz) is
  'Service role: stores (or replaces) the route between two points for a profile, valid for p_ttl_seconds (default a day). Errors: 22023 invalid input.';

create or replace function private.purge_expired_routes(p_now timestamptz default now())
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_count integer;
begin
  perform private.platform_require_clock(p_now);
  delete from public.routes as r where r.expires_at <= p_now;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

comment on function private.purge_expired_routes(timestamptz) is
  'Deletes expired cached routes; returns how many. Scheduled daily by pg_cron (job purge-expired-routes).';

select cron.schedule('purge-expired-routes', '41 3 * * *', 'select private.purge_expired_routes()');

revoke execute on function private.find_nearby_locations(double precision, double precision, double precision, integer) from public, anon, authenticated, service_role;
revoke execute on function public.find_nearby_locations(double precision, double precision, double precision, integer) from public, anon, authenticated, service_role;
revoke execute on function private.validate_route_endpoints(double precision, double precision, double precision, double precision, text) from public, anon, authenticated, service_role;
revoke execute on function public.get_cached_route(double precision, double precision, double precision, double precision, text) from public, anon, authenticated, service_role;
revoke execute on function public.cache_route(double precision, double precision, double precision, double precision, double precision, double precision, text, text, text, integer, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function private.purge_expired_routes(timestamptz) from public, anon, authenticated, service_role;
grant execute on function private.find_nearby_locations(double precision, double precision, double precision, integer) to authenticated, service_role;
grant execute on function public.find_nearby_locations(double precision, double precision, double precision, integer) to authenticated, service_role;
grant execute on function private.validate_route_endpoints(double precision, double precision, double precision, double precision, text) to authenticated, service_role;
grant execute on function public.get_cached_route(double precision, double precision, double precision, double precision, text) to authenticated, service_role;
grant execute on function public.cache_route(double precision, double precision, double precision, double precision, double precision, double precision, text, text, text, integer, timestamptz) to service_role;
