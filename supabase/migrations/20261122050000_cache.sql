-- Cache (platform): a Redis-style key/value cache in an unlogged table, with
-- TTLs, tags, counters, lists, sets and hashes, transactional with the
-- business writes that use it. One of the three platform primitives (cache,
-- queues: 20261122050100_queues.sql, event store: 20261122050200_events.sql).
-- Seeds: 001 cache (TTL classes, getOrCompute, increment, per-entity
-- invalidation), cache_statistics; 003 CacheService (get/set/delete with TTL,
-- list push/pop, set add/members, hash set/get); 004 cache_entries, set_cache,
-- get_cache, invalidate_cache_by_tag, cleanup_expired_cache, cache_stats.
-- Mapping and semantics: docs/platform.md.

-- ===========================================================================
-- Clocks and times of the platform's service-role functions
-- ===========================================================================
-- The worker and cache functions take an injectable clock (p_now) for the
-- service role and tests (docs/conventions.md). An infinite or absurd clock
-- would store times no aggregate can subtract (22008) or purge everything at
-- once, so an injected clock is finite and within a century of the real one,
-- and a time the service role supplies (a run or send time) is finite and
-- within ten years of that clock. Users' own times have the narrower window
-- of private.user_time_skew() and private.user_time_horizon().
create or replace function private.platform_require_clock(p_now timestamptz)
returns timestamptz
language sql
stable
security invoker
set search_path = ''
as $$
  select private.require_time_between(p_now, 'p_now', pg_catalog.now() - interval '100 years',
                                      pg_catalog.now() + interval '100 years');
$$;

comment on function private.platform_require_clock(timestamptz) is
  'p_now unchanged (null too); 22023 unless it is finite and within 100 years of now(). The bound on every injected clock of the platform and integration functions.';

create or replace function private.platform_require_service_time(p_value timestamptz, p_name text, p_now timestamptz)
returns timestamptz
language sql
stable
security invoker
set search_path = ''
as $$
  select private.require_time_between(p_value, p_name, p_now - interval '10 years', p_now + interval '10 years');
$$;

comment on function private.platform_require_service_time(timestamptz, text, timestamptz) is
  'p_value unchanged (null too); 22023 unless it is finite and within 10 years of p_now. The window of run and send times the service role supplies.';

revoke execute on function private.platform_require_clock(timestamptz) from public, anon, authenticated, service_role;
revoke execute on function private.platform_require_service_time(timestamptz, text, timestamptz) from public, anon, authenticated, service_role;
grant execute on function private.platform_require_clock(timestamptz) to authenticated, service_role;
grant execute on function private.platform_require_service_time(timestamptz, text, timestamptz) to authenticated, service_role;

-- ===========================================================================
-- Cache
-- ===========================================================================
-- Key length and kind are domains rather than table check constraints: on
-- every INSERT or UPDATE statement Postgres reads each table check's
-- expression from its stored text and plans it before the first row, and an
-- UPDATE checks all of them whatever columns it sets - on this table that cost
-- more than the write itself. A domain's check is planned once per connection
-- (type cache) and runs only when the column is assigned. A direct write that
-- breaks one fails with 23514, as a table check would. That tags and
-- tag_versions have equal length spans two columns, so no domain can hold
-- it: the functions that write tags build both arrays together, and a
-- misaligned tagged row (only hand-written SQL could make one) reads as a
-- miss (private.cache_tags_current).
create domain private.cache_key as text collate "C"
  constraint cache_key_length check (char_length(value) between 1 and 512);
create domain private.cache_kind as text
  constraint cache_kind_known check (value in ('value', 'counter', 'list', 'set', 'hash'));

comment on domain private.cache_key is
  'A cache key: 1 to 512 characters, byte-ordered (collate "C") so prefix deletes use the primary key. A domain rather than a table check: checked only when a key is written.';
comment on domain private.cache_kind is
  'What a cache entry holds: value, counter, list, set or hash. A domain rather than a table check: checked only when kind is written.';

-- Unlogged: no WAL, so writes cost a fraction of a logged table's. After a
-- crash (not a clean restart) Postgres truncates these tables, and they are
-- not on read replicas or in PITR restores. A cache may lose its contents: every
-- reader already handles a miss by recomputing (docs/platform.md).
create unlogged table if not exists private.cache_entries (
  key private.cache_key primary key,
  kind private.cache_kind not null default 'value',
  value jsonb not null,
  tags text[] not null default '{}',
  tag_versions bigint[] not null default '{}',
  expires_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table private.cache_entries is
  'Key/value cache (seed 004 cache_entries, seeds 001/003 Redis cache). Unlogged: emptied after a crash. kind says what value holds: a value, a counter, a list (array), a set (object of members) or a hash (object).';
comment on column private.cache_entries.key is 'Cache key, byte-ordered (collate "C") so prefix deletes use the primary key.';
comment on column private.cache_entries.tags is 'Tags for invalidate_cache_by_tag().';
comment on column private.cache_entries.tag_versions is
  'Version of each tag when the entry was written, aligned with tags; a tag whose version has moved on, or arrays of different lengths, make the entry a miss.';
comment on column private.cache_entries.expires_at is 'When the entry stops being returned; null: no TTL (until evicted or invalidated).';

-- No index on expires_at: every set would then change an indexed column and
-- could never be a HOT update. The cleanup scans the table every 5 minutes
-- instead, which for a cache is cheap. fillfactor leaves room on each page
-- for the new versions that HOT updates need.
alter table private.cache_entries set (fillfactor = 70);
create index if not exists cache_entries_tags_idx on private.cache_entries using gin (tags) where tags <> '{}';

-- Invalidating a tag bumps one row here: O(1) however many keys carry the
-- tag. Entries written under an older version read as misses, and the
-- scheduled cleanup deletes them.
create unlogged table if not exists private.cache_tag_versions (
  tag text collate "C" primary key,
  version bigint not null default 0,
  purge_pending boolean not null default false,
  invalidated_at timestamptz
);

comment on table private.cache_tag_versions is
  'Current version of each cache tag; invalidate_cache_by_tag() increments it. purge_pending: cleanup_expired_cache() still has to delete the entries it invalidated.';

-- Hit/miss counters as sequences: nextval takes no row lock, so concurrent
-- readers never queue on one counter row, and it is not rolled back.
create unlogged sequence if not exists private.cache_hits;
create unlogged sequence if not exists private.cache_misses;
comment on sequence private.cache_hits is 'Cache hits since the last crash (unlogged).';
comment on sequence private.cache_misses is 'Cache misses since the last crash (unlogged).';

create table if not exists private.cache_statistics (
  id bigint generated always as identity primary key,
  recorded_at timestamptz not null default now(),
  hits bigint not null,
  misses bigint not null,
  hits_total bigint not null,
  misses_total bigint not null,
  entries bigint not null,
  expired_removed bigint not null,
  invalidated_removed bigint not null
);

comment on table private.cache_statistics is
  'Cache statistics over time (seed 001 cache_statistics): one row per cleanup_expired_cache() run, with the hits and misses since the previous row.';
create index if not exists cache_statistics_recorded_at_idx on private.cache_statistics (recorded_at);

alter table private.cache_entries enable row level security;
alter table private.cache_tag_versions enable row level security;
alter table private.cache_statistics enable row level security;

-- The cache is the service role's (and server-side functions'): the public
-- RPCs below are security invoker and work on these tables directly, which is
-- what keeps a cache read as cheap as an index probe.
revoke all on table private.cache_entries, private.cache_tag_versions, private.cache_statistics
  from public, anon, authenticated, service_role;
grant select, insert, update, delete on table private.cache_entries to service_role;
grant select, insert, update on table private.cache_tag_versions to service_role;
grant select, insert on table private.cache_statistics to service_role;
revoke all on sequence private.cache_hits, private.cache_misses from public, anon, authenticated, service_role;
grant usage, select on sequence private.cache_hits, private.cache_misses to service_role;

-- An entry is current only with aligned arrays (the rule a table check
-- cannot hold cheaply, see the domains above) and no invalidated tag.
create or replace function private.cache_tags_current(p_tags text[], p_versions bigint[])
returns boolean
language sql
stable
security invoker
set search_path = ''
as $$
  select pg_catalog.cardinality(p_tags) = pg_catalog.cardinality(p_versions)
     and not exists (
           select 1
             from unnest(p_tags, p_versions) as t(tag, version)  -- multi-argument unnest is syntax, not a function
             join private.cache_tag_versions as v on v.tag = t.tag
            where v.version <> t.version
         );
$$;

comment on function private.cache_tags_current(text[], bigint[]) is
  'True when the entry''s tags and versions are aligned and none of the tags has been invalidated since the entry stored these versions.';

create or replace function private.cache_tag_versions_for(p_tags text[])
returns bigint[]
language sql
stable
security invoker
set search_path = ''
as $$
  select coalesce(pg_catalog.array_agg(coalesce(v.version, 0) order by t.ord), '{}')
    from pg_catalog.unnest(p_tags) with ordinality as t(tag, ord)
    left join private.cache_tag_versions as v on v.tag = t.tag;
$$;

comment on function private.cache_tag_versions_for(text[]) is 'The current version of each tag (0 for a tag never invalidated), in order.';

-- Shared argument checks: one message per mistake, raised before any write.
create or replace function private.cache_check_key(p_key text)
returns void
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  if p_key is null or char_length(p_key) not between 1 and 512 then
    raise exception 'invalid key: must be 1 to 512 characters' using errcode = '22023';
  end if;
end;
$$;

comment on function private.cache_check_key(text) is 'Raises 22023 unless the cache key is 1 to 512 characters.';

create or replace function private.cache_expiry(p_ttl_seconds integer, p_now timestamptz)
returns timestamptz
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  perform private.platform_require_clock(p_now);
  if p_ttl_seconds is null then
    return null;
  end if;
  if p_ttl_seconds < 1 or p_ttl_seconds > 31536000 then
    raise exception 'invalid ttl: p_ttl_seconds must be between 1 and 31536000 (a year), or null for no expiry'
      using errcode = '22023';
  end if;
  return p_now + pg_catalog.make_interval(secs => p_ttl_seconds);
end;
$$;

comment on function private.cache_expiry(integer, timestamptz) is 'expires_at for a TTL in seconds (null: none); 22023 outside 1 s .. 1 year, or for a clock private.platform_require_clock refuses.';

-- set_cache overwrites with a plain UPDATE and inserts only when the key is
-- new: no speculative insertion and row lock before the update.
create or replace function public.set_cache(
  p_key text,
  p_value jsonb,
  p_ttl_seconds integer default null,
  p_tags text[] default '{}',
  p_now timestamptz default now()
)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  -- One guard on the hot path; the specific message only when it fails.
  if p_key is null or char_length(p_key) not between 1 and 512 or p_value is null
     or p_ttl_seconds < 1 or p_ttl_seconds > 31536000 or pg_catalog.pg_column_size(p_value) > 1048576
     or not p_now between pg_catalog.now() - interval '100 years' and pg_catalog.now() + interval '100 years' then
    if p_key is null or char_length(p_key) not between 1 and 512 then
      raise exception 'invalid key: must be 1 to 512 characters' using errcode = '22023';
    end if;
    if p_value is null then
      raise exception 'invalid value: must not be null (store JSON null as ''null''::jsonb)' using errcode = '22023';
    end if;
    perform private.require_json_size(p_value, 'value', 1048576);
    perform private.platform_require_clock(p_now);
    raise exception 'invalid ttl: p_ttl_seconds must be between 1 and 31536000 (a year), or null for no expiry'
      using errcode = '22023';
  end if;
  if p_tags is null or pg_catalog.cardinality(p_tags) = 0 then
    -- Overwrite in place (the common case); insert only a new key. The
    -- upsert covers a concurrent insert of the same new key.
    update private.cache_entries as e
       set kind = 'value', value = p_value, tags = '{}', tag_versions = '{}',
           expires_at = p_now + pg_catalog.make_interval(secs => p_ttl_seconds), updated_at = p_now
     where e.key = p_key;
    if not found then
      insert into private.cache_entries as e (key, kind, value, tags, tag_versions, expires_at, created_at, updated_at)
      values (p_key, 'value', p_value, '{}', '{}', p_now + pg_catalog.make_interval(secs => p_ttl_seconds), p_now, p_now)
      on conflict (key) do update
        set kind = 'value', value = excluded.value, tags = '{}', tag_versions = '{}',
            expires_at = excluded.expires_at, updated_at = excluded.updated_at;
    end if;
    return;
  end if;
  if cardinality(p_tags) > 32 or exists (select 1 from pg_catalog.unnest(p_tags) as t where t is null or char_length(t) not between 1 and 200) then
    raise exception 'invalid tags: at most 32 tags of 1 to 200 characters' using errcode = '22023';
  end if;
  insert into private.cache_entries as e (key, kind, value, tags, tag_versions, expires_at, created_at, updated_at)
  values (p_key, 'value', p_value, p_tags, private.cache_tag_versions_for(p_tags),
          p_now + pg_catalog.make_interval(secs => p_ttl_seconds), p_now, p_now)
  on conflict (key) do update
    set kind = 'value', value = excluded.value, tags = excluded.tags, tag_versions = excluded.tag_versions,
        expires_at = excluded.expires_at, updated_at = excluded.updated_at;
end;
$$;

comment on function public.set_cache(text, jsonb, integer, text[], timestamptz) is
  'Stores a value under a key (seed 004 set_cache; seeds 001/003 cache.set), replacing whatever was there. p_ttl_seconds null: no expiry. p_tags: names for invalidate_cache_by_tag. Service role. 22023 on a bad key, a null value or one over 1 MiB, a bad TTL, tags or clock.';

-- get_cache counts a hit inside the condition that returns it (a simple
-- expression) rather than with PERFORM (a whole executor run), and checks the
-- key for null only on a miss. Counting stays exact: one nextval on an
-- unlogged sequence per call.
create or replace function public.get_cache(p_key text, p_now timestamptz default now())
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_value jsonb;
begin
  -- A null key matches no row, so it is refused on the miss path only.
  select e.value into v_value
    from private.cache_entries as e
   where e.key = p_key
     and (e.expires_at is null or e.expires_at > p_now)
     and (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions));
  -- Each count is part of an expression the function needs anyway (nextval
  -- is never null): no statement of its own, as PERFORM would run.
  if found and pg_catalog.nextval('private.cache_hits') is not null then
    return v_value;
  end if;
  if p_key is null then
    raise exception 'invalid key: must be 1 to 512 characters' using errcode = '22023';
  end if;
  return case when pg_catalog.nextval('private.cache_misses') is not null then null::jsonb end;
end;
$$;

comment on function public.get_cache(text, timestamptz) is
  'The value stored under a key, or null: a missing, expired or tag-invalidated entry all read as a miss (seed 004 get_cache; seeds 001/003 cache.get). Counts hits and misses exactly (cache_stats). Service role.';

create or replace function public.delete_cache(p_key text)
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  perform private.cache_check_key(p_key);
  delete from private.cache_entries as e where e.key = p_key;
  return found;
end;
$$;

comment on function public.delete_cache(text) is 'Deletes one key (seed 003 cache.delete); true if it existed. Service role.';

create or replace function public.delete_cache_by_prefix(p_prefix text)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_count integer;
begin
  if p_prefix is null or char_length(p_prefix) not between 3 and 512 then
    raise exception 'invalid prefix: must be 3 to 512 characters' using errcode = '22023';
  end if;
  -- A range scan of the byte-ordered primary key, then the exact test.
  delete from private.cache_entries as e
   where e.key >= p_prefix collate "C"
     and e.key < (p_prefix || U&'\+10FFFF') collate "C"
     and pg_catalog.starts_with(e.key, p_prefix);
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

comment on function public.delete_cache_by_prefix(text) is
  'Deletes every key starting with p_prefix (seed 003 "pattern-based invalidation", e.g. ''user:123:''); returns how many. Service role.';

create or replace function public.invalidate_cache_by_tag(p_tag text, p_now timestamptz default now())
returns bigint
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_version bigint;
begin
  if p_tag is null or char_length(p_tag) not between 1 and 200 then
    raise exception 'invalid tag: must be 1 to 200 characters' using errcode = '22023';
  end if;
  perform private.platform_require_clock(p_now);
  insert into private.cache_tag_versions as t (tag, version, purge_pending, invalidated_at)
  values (p_tag, 1, true, p_now)
  on conflict (tag) do update
    set version = t.version + 1, purge_pending = true, invalidated_at = excluded.invalidated_at
  returning t.version into v_version;
  return v_version;
end;
$$;

comment on function public.invalidate_cache_by_tag(text, timestamptz) is
  'Invalidates every entry tagged p_tag at once (seed 004; seed 001 CacheInvalidator with tags such as ''video:456''): one row update however many keys carry the tag; the entries read as misses from now on and are deleted by the scheduled cleanup. Returns the tag''s new version. Service role.';

-- Owner tags (seed 003: update and delete "automatically invalidate cache"):
-- an entry derived from one user's rows carries the tag user:<user id>, and
-- triggers on the user-owned tables (profiles, experiences: the identity
-- migration) invalidate it whenever such a row changes, in the writer's
-- transaction.
create or replace function private.user_cache_tag(p_user_id uuid)
returns text
language sql
immutable
security invoker
set search_path = ''
as $$
  select 'user:' || p_user_id::text;
$$;

comment on function private.user_cache_tag(uuid) is
  'The cache tag of entries derived from a user''s rows: user:<user id>. Tag such entries with it (set_cache p_tags); a change to the user''s profile or experiences invalidates it.';

create or replace function private.invalidate_user_cache(p_user_id uuid)
returns bigint
language sql
volatile
security invoker
set search_path = ''
as $$
  select public.invalidate_cache_by_tag(private.user_cache_tag(p_user_id)) where p_user_id is not null;
$$;

comment on function private.invalidate_user_cache(uuid) is
  'Invalidates every cache entry tagged user:<p_user_id> (one tag version bump); returns the new version, null for a null user. Called by the owner triggers of the user-owned tables.';

create or replace function public.increment_cache(
  p_key text,
  p_ttl_seconds integer default null,
  p_amount bigint default 1,
  p_now timestamptz default now()
)
returns bigint
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_value bigint;
begin
  -- Checks inline: this is a hot path (rate-limit counters).
  if p_key is null or char_length(p_key) not between 1 and 512 then
    raise exception 'invalid key: must be 1 to 512 characters' using errcode = '22023';
  end if;
  if p_ttl_seconds is not null and (p_ttl_seconds < 1 or p_ttl_seconds > 31536000) then
    raise exception 'invalid ttl: p_ttl_seconds must be between 1 and 31536000 (a year), or null for no expiry'
      using errcode = '22023';
  end if;
  if p_amount is null then
    raise exception 'invalid amount: must not be null' using errcode = '22023';
  end if;
  if not p_now between pg_catalog.now() - interval '100 years' and pg_catalog.now() + interval '100 years' then
    perform private.platform_require_clock(p_now);
  end if;
  -- One statement: concurrent increments serialise on the row, none is lost.
  -- The TTL is set when the counter starts (a fixed window) and kept after.
  insert into private.cache_entries as e (key, kind, value, expires_at, created_at, updated_at)
  values (p_key, 'counter', pg_catalog.to_jsonb(p_amount), p_now + pg_catalog.make_interval(secs => p_ttl_seconds), p_now, p_now)
  on conflict (key) do update
    set kind = 'counter',
        value = case when (e.expires_at is null or e.expires_at > p_now) and (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions))
                     then pg_catalog.to_jsonb((e.value)::bigint + p_amount)
                     else excluded.value end,
        expires_at = case when (e.expires_at is null or e.expires_at > p_now) and (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions))
                          then e.expires_at
                          else excluded.expires_at end,
        tags = case when (e.expires_at is null or e.expires_at > p_now) then e.tags else '{}' end,
        tag_versions = case when (e.expires_at is null or e.expires_at > p_now) then e.tag_versions else '{}' end,
        updated_at = excluded.updated_at
    where e.kind = 'counter'
       or (e.kind = 'value' and pg_catalog.jsonb_typeof(e.value) = 'number' and (e.value)::numeric = pg_catalog.trunc((e.value)::numeric))
       or (e.expires_at is not null and e.expires_at <= p_now)
       or not (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions))
  returning (e.value)::bigint into v_value;
  if not found then
    raise exception 'cache key % does not hold an integer', p_key using errcode = '22023';
  end if;
  return v_value;
end;
$$;

comment on function public.increment_cache(text, integer, bigint, timestamptz) is
  'Atomically adds p_amount (default 1) to the counter at p_key and returns the new value (seed 001 cache.increment(key, ttl)). A new or expired counter starts at p_amount with p_ttl_seconds to live; the TTL is not extended. 22023 if the key holds something else. Service role.';

-- Lists, sets and hashes (seed 003). Each is one row, locked for the change.

-- The write of cache_list_push, cache_set_add and cache_hash_set: p_value
-- (an array, or an object of members or fields) merged into the live entry
-- of kind p_kind at p_key with ||, or, when the key is new, expired or of an
-- invalidated tag, stored as a new entry with p_ttl_seconds to live.
create or replace function private.cache_merge_collection(
  p_key text,
  p_kind text,
  p_value jsonb,
  p_ttl_seconds integer,
  p_now timestamptz
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_value jsonb;
begin
  insert into private.cache_entries as e (key, kind, value, expires_at, created_at, updated_at)
  values (p_key, p_kind, p_value, private.cache_expiry(p_ttl_seconds, p_now), p_now, p_now)
  on conflict (key) do update
    set value = case when e.kind = p_kind and (e.expires_at is null or e.expires_at > p_now) and (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions))
                     then e.value || excluded.value else excluded.value end,
        expires_at = case when e.kind = p_kind and (e.expires_at is null or e.expires_at > p_now) and (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions))
                          then e.expires_at else excluded.expires_at end,
        kind = p_kind, tags = '{}', tag_versions = '{}', updated_at = excluded.updated_at
    where e.kind = p_kind or (e.expires_at is not null and e.expires_at <= p_now) or not (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions))
  returning e.value into v_value;
  if not found then
    raise exception 'cache key % does not hold a %', p_key, p_kind using errcode = '22023';
  end if;
  return v_value;
end;
$$;

comment on function private.cache_merge_collection(text, text, jsonb, integer, timestamptz) is
  'The upsert behind cache_list_push, cache_set_add and cache_hash_set: returns the entry''s value after the merge; 22023 if the key holds a live entry of another kind.';

create or replace function public.cache_list_push(
  p_key text,
  p_value jsonb,
  p_ttl_seconds integer default null,
  p_now timestamptz default now()
)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_length integer;
begin
  perform private.cache_check_key(p_key);
  if p_value is null then
    raise exception 'invalid value: must not be null' using errcode = '22023';
  end if;
  perform private.require_json_size(p_value, 'value', 1048576);
  v_length := pg_catalog.jsonb_array_length(private.cache_merge_collection(p_key, 'list', pg_catalog.jsonb_build_array(p_value), p_ttl_seconds, p_now));
  return v_length;
end;
$$;

comment on function public.cache_list_push(text, jsonb, integer, timestamptz) is
  'Appends p_value to the list at p_key, creating it (with p_ttl_seconds) if absent; returns the new length (seed 003 listPush). 22023 if the key holds something else. Service role.';

create or replace function public.cache_list_pop(p_key text, p_now timestamptz default now())
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_entry private.cache_entries;
begin
  perform private.cache_check_key(p_key);
  perform private.platform_require_clock(p_now);
  -- The row lock makes read-and-remove atomic: two poppers never get the same item.
  select e.* into v_entry
    from private.cache_entries as e
   where e.key = p_key
     and (e.expires_at is null or e.expires_at > p_now)
     and (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions))
     for update;
  if not found then
    return null;
  end if;
  if v_entry.kind <> 'list' then
    raise exception 'cache key % does not hold a list', p_key using errcode = '22023';
  end if;
  if pg_catalog.jsonb_array_length(v_entry.value) <= 1 then
    delete from private.cache_entries as e where e.key = p_key;
  else
    update private.cache_entries as e set value = e.value - 0, updated_at = p_now where e.key = p_key;
  end if;
  return v_entry.value -> 0;
end;
$$;

comment on function public.cache_list_pop(text, timestamptz) is
  'Removes and returns the first item of the list at p_key (FIFO with cache_list_push; seed 003 listPop), or null when empty or absent. Service role.';

create or replace function public.cache_set_add(
  p_key text,
  p_members text[],
  p_ttl_seconds integer default null,
  p_now timestamptz default now()
)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_add jsonb;
  v_after integer;
begin
  perform private.cache_check_key(p_key);
  if p_members is null or cardinality(p_members) = 0 or array_position(p_members, null) is not null then
    raise exception 'invalid members: give at least one member, none null' using errcode = '22023';
  end if;
  select pg_catalog.jsonb_object_agg(m, true) into v_add from pg_catalog.unnest(p_members) as m;
  perform private.require_json_size(v_add, 'members', 1048576);
  select count(*) into v_after
    from pg_catalog.jsonb_object_keys(private.cache_merge_collection(p_key, 'set', v_add, p_ttl_seconds, p_now));
  return v_after;
end;
$$;

comment on function public.cache_set_add(text, text[], integer, timestamptz) is
  'Adds members to the set at p_key, creating it (with p_ttl_seconds) if absent; returns the set''s size after the add (seed 003 setAdd). 22023 if the key holds something else. Service role.';

create or replace function public.cache_set_members(p_key text, p_now timestamptz default now())
returns text[]
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_entry private.cache_entries;
begin
  perform private.cache_check_key(p_key);
  select e.* into v_entry
    from private.cache_entries as e
   where e.key = p_key
     and (e.expires_at is null or e.expires_at > p_now)
     and (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions));
  if not found then
    return '{}';
  end if;
  if v_entry.kind <> 'set' then
    raise exception 'cache key % does not hold a set', p_key using errcode = '22023';
  end if;
  return (select pg_catalog.array_agg(k order by k) from pg_catalog.jsonb_object_keys(v_entry.value) as k);
end;
$$;

comment on function public.cache_set_members(text, timestamptz) is
  'The members of the set at p_key, sorted; empty when absent (seed 003 setMembers). Service role.';

create or replace function public.cache_hash_set(
  p_key text,
  p_field text,
  p_value jsonb,
  p_ttl_seconds integer default null,
  p_now timestamptz default now()
)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  perform private.cache_check_key(p_key);
  if p_field is null or char_length(p_field) not between 1 and 200 then
    raise exception 'invalid field: must be 1 to 200 characters' using errcode = '22023';
  end if;
  if p_value is null then
    raise exception 'invalid value: must not be null' using errcode = '22023';
  end if;
  perform private.require_json_size(p_value, 'value', 1048576);
  perform private.cache_merge_collection(p_key, 'hash', pg_catalog.jsonb_build_object(p_field, p_value), p_ttl_seconds, p_now);
end;
$$;

comment on function public.cache_hash_set(text, text, jsonb, integer, timestamptz) is
  'Sets one field of the hash at p_key, creating it (with p_ttl_seconds) if absent (seed 003 hashSet). 22023 if the key holds something else. Service role.';

create or replace function public.cache_hash_get(p_key text, p_field text, p_now timestamptz default now())
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_entry private.cache_entries;
begin
  perform private.cache_check_key(p_key);
  if p_field is null then
    raise exception 'invalid field: must be 1 to 200 characters' using errcode = '22023';
  end if;
  select e.* into v_entry
    from private.cache_entries as e
   where e.key = p_key
     and (e.expires_at is null or e.expires_at > p_now)
     and (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions));
  if found and v_entry.kind <> 'hash' then
    raise exception 'cache key % does not hold a hash', p_key using errcode = '22023';
  end if;
  if v_entry.value ? p_field then
    perform pg_catalog.nextval('private.cache_hits');
  else
    perform pg_catalog.nextval('private.cache_misses');
  end if;
  return v_entry.value -> p_field;
end;
$$;

comment on function public.cache_hash_get(text, text, timestamptz) is
  'One field of the hash at p_key, or null (seed 003 hashGet). Counts a hit or a miss. Service role.';

-- Current figures; cleanup_expired_cache() keeps the history in cache_statistics.
create or replace view public.cache_stats
with (security_invoker = true)
as
select count(*) filter (where (e.expires_at is null or e.expires_at > now())
                          and (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions))) as live_entries,
       count(*) as stored_entries,
       (select case when s.is_called then s.last_value else 0 end from private.cache_hits as s) as hits,
       (select case when s.is_called then s.last_value else 0 end from private.cache_misses as s) as misses,
       pg_catalog.round(
         (select case when s.is_called then s.last_value else 0 end from private.cache_hits as s)::numeric
         / nullif((select case when s.is_called then s.last_value else 0 end from private.cache_hits as s)
                  + (select case when s.is_called then s.last_value else 0 end from private.cache_misses as s), 0), 4) as hit_rate,
       pg_catalog.pg_total_relation_size('private.cache_entries') as total_bytes
  from private.cache_entries as e;

comment on view public.cache_stats is
  'Cache figures now (seed 004 cache_stats): live and stored entries, hits and misses since the last crash, hit rate, size on disk. Service role.';
revoke all on public.cache_stats from public, anon, authenticated, service_role;
grant select on public.cache_stats to service_role;

create or replace function public.cleanup_expired_cache(p_now timestamptz default now())
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_expired integer;
  v_invalidated integer := 0;
  v_n integer;
  v_tag record;
  v_hits bigint;
  v_misses bigint;
  v_prev private.cache_statistics;
begin
  perform private.platform_require_clock(p_now);
  delete from private.cache_entries as e where e.expires_at <= p_now;
  get diagnostics v_expired = row_count;

  -- Entries of invalidated tags: found through the GIN index, tag by tag.
  for v_tag in
    select t.tag, t.version from private.cache_tag_versions as t where t.purge_pending for update skip locked
  loop
    delete from private.cache_entries as e
     where e.tags @> array[v_tag.tag]
       and not (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions));
    get diagnostics v_n = row_count;
    v_invalidated := v_invalidated + v_n;
    update private.cache_tag_versions as t set purge_pending = false
     where t.tag = v_tag.tag and t.version = v_tag.version;
  end loop;

  select case when s.is_called then s.last_value else 0 end into v_hits from private.cache_hits as s;
  select case when s.is_called then s.last_value else 0 end into v_misses from private.cache_misses as s;
  select c.* into v_prev from private.cache_statistics as c order by c.id desc limit 1;
  insert into private.cache_statistics (recorded_at, hits, misses, hits_total, misses_total, entries, expired_removed, invalidated_removed)
  values (p_now,
          -- after a crash the unlogged counters restart from zero
          case when v_prev.id is null or v_hits < v_prev.hits_total then v_hits else v_hits - v_prev.hits_total end,
          case when v_prev.id is null or v_misses < v_prev.misses_total then v_misses else v_misses - v_prev.misses_total end,
          v_hits, v_misses,
          (select count(*) from private.cache_entries),
          v_expired, v_invalidated);
  return v_expired + v_invalidated;
end;
$$;

comment on function public.cleanup_expired_cache(timestamptz) is
  'Deletes expired entries and those of invalidated tags, and records a cache_statistics row; returns how many entries it deleted (seed 004). Scheduled every 5 minutes (pg_cron job cache-cleanup). Service role.';

-- Privileges: the cache is the service role's.
revoke execute on function private.cache_tags_current(text[], bigint[]) from public, anon, authenticated, service_role;
revoke execute on function private.user_cache_tag(uuid) from public, anon, authenticated, service_role;
revoke execute on function private.invalidate_user_cache(uuid) from public, anon, authenticated, service_role;
grant execute on function private.user_cache_tag(uuid) to service_role;
grant execute on function private.invalidate_user_cache(uuid) to service_role;
revoke execute on function private.cache_tag_versions_for(text[]) from public, anon, authenticated, service_role;
revoke execute on function private.cache_check_key(text) from public, anon, authenticated, service_role;
revoke execute on function private.cache_expiry(integer, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function private.cache_merge_collection(text, text, jsonb, integer, timestamptz) from public, anon, authenticated, service_role;
grant execute on function private.cache_tags_current(text[], bigint[]) to service_role;
grant execute on function private.cache_tag_versions_for(text[]) to service_role;
grant execute on function private.cache_check_key(text) to service_role;
grant execute on function private.cache_expiry(integer, timestamptz) to service_role;
grant execute on function private.cache_merge_collection(text, text, jsonb, integer, timestamptz) to service_role;

revoke execute on function public.set_cache(text, jsonb, integer, text[], timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.get_cache(text, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.delete_cache(text) from public, anon, authenticated, service_role;
revoke execute on function public.delete_cache_by_prefix(text) from public, anon, authenticated, service_role;
revoke execute on function public.invalidate_cache_by_tag(text, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.increment_cache(text, integer, bigint, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.cache_list_push(text, jsonb, integer, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.cache_list_pop(text, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.cache_set_add(text, text[], integer, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.cache_set_members(text, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.cache_hash_set(text, text, jsonb, integer, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.cache_hash_get(text, text, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.cleanup_expired_cache(timestamptz) from public, anon, authenticated, service_role;
grant execute on function public.set_cache(text, jsonb, integer, text[], timestamptz) to service_role;
grant execute on function public.get_cache(text, timestamptz) to service_role;
grant execute on function public.delete_cache(text) to service_role;
grant execute on function public.delete_cache_by_prefix(text) to service_role;
grant execute on function public.invalidate_cache_by_tag(text, timestamptz) to service_role;
grant execute on function public.increment_cache(text, integer, bigint, timestamptz) to service_role;
grant execute on function public.cache_list_push(text, jsonb, integer, timestamptz) to service_role;
grant execute on function public.cache_list_pop(text, timestamptz) to service_role;
grant execute on function public.cache_set_add(text, text[], integer, timestamptz) to service_role;
grant execute on function public.cache_set_members(text, timestamptz) to service_role;
grant execute on function public.cache_hash_set(text, text, jsonb, integer, timestamptz) to service_role;
grant execute on function public.cache_hash_get(text, text, timestamptz) to service_role;
grant execute on function public.cleanup_expired_cache(timestamptz) to service_role;

-- ===========================================================================
-- Scheduled maintenance (cron.schedule upserts by name)
-- ===========================================================================
select cron.schedule('cache-cleanup', '*/5 * * * *', 'select public.cleanup_expired_cache()');
