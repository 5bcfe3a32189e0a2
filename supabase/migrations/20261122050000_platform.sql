-- Platform primitives in Postgres: cache, job/message queue, event store.
--
-- The seeds run these on Redis and Inngest; here they are tables and
-- functions, transactional with the business writes that use them.
-- Seeds: 001 cache (TTL classes, getOrCompute, increment, per-entity
-- invalidation), job_queue and its job types with retries, cache_statistics,
-- cleanup_old_job_queue_records; 003 CacheService (get/set/delete with TTL,
-- list push/pop, set add/members, hash set/get); 004 cache_entries, set_cache,
-- get_cache, invalidate_cache_by_tag, cleanup_expired_cache, cache_stats,
-- event_store (partitioned, versioned, correlation/causation), append_event,
-- get_aggregate_events, message_queue (idempotent processing), background_jobs
-- and schedule_job. Mapping and semantics: docs/platform.md.

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
immutable
security invoker
set search_path = ''
as $$
begin
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

comment on function private.cache_expiry(integer, timestamptz) is 'expires_at for a TTL in seconds (null: none); 22023 outside 1 s .. 1 year.';

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
     or p_ttl_seconds < 1 or p_ttl_seconds > 31536000 then
    if p_key is null or char_length(p_key) not between 1 and 512 then
      raise exception 'invalid key: must be 1 to 512 characters' using errcode = '22023';
    end if;
    if p_value is null then
      raise exception 'invalid value: must not be null (store JSON null as ''null''::jsonb)' using errcode = '22023';
    end if;
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
  'Stores a value under a key (seed 004 set_cache; seeds 001/003 cache.set), replacing whatever was there. p_ttl_seconds null: no expiry. p_tags: names for invalidate_cache_by_tag. Service role. 22023 on a bad key, null value, bad TTL or tags.';

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
create or replace function private.cache_live_kind(p_key text, p_now timestamptz)
returns text
language sql
stable
security invoker
set search_path = ''
as $$
  select e.kind
    from private.cache_entries as e
   where e.key = p_key
     and (e.expires_at is null or e.expires_at > p_now)
     and (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions));
$$;

comment on function private.cache_live_kind(text, timestamptz) is 'The kind of the live entry at p_key, or null.';

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
  insert into private.cache_entries as e (key, kind, value, expires_at, created_at, updated_at)
  values (p_key, 'list', pg_catalog.jsonb_build_array(p_value), private.cache_expiry(p_ttl_seconds, p_now), p_now, p_now)
  on conflict (key) do update
    set value = case when e.kind = 'list' and (e.expires_at is null or e.expires_at > p_now) and (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions))
                     then e.value || pg_catalog.jsonb_build_array(p_value) else excluded.value end,
        expires_at = case when e.kind = 'list' and (e.expires_at is null or e.expires_at > p_now) and (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions))
                          then e.expires_at else excluded.expires_at end,
        kind = 'list', tags = '{}', tag_versions = '{}', updated_at = excluded.updated_at
    where e.kind = 'list' or (e.expires_at is not null and e.expires_at <= p_now) or not (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions))
  returning pg_catalog.jsonb_array_length(e.value) into v_length;
  if not found then
    raise exception 'cache key % does not hold a list', p_key using errcode = '22023';
  end if;
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
  insert into private.cache_entries as e (key, kind, value, expires_at, created_at, updated_at)
  values (p_key, 'set', v_add, private.cache_expiry(p_ttl_seconds, p_now), p_now, p_now)
  on conflict (key) do update
    set value = case when e.kind = 'set' and (e.expires_at is null or e.expires_at > p_now) and (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions))
                     then e.value || v_add else excluded.value end,
        expires_at = case when e.kind = 'set' and (e.expires_at is null or e.expires_at > p_now) and (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions))
                          then e.expires_at else excluded.expires_at end,
        kind = 'set', tags = '{}', tag_versions = '{}', updated_at = excluded.updated_at
    where e.kind = 'set' or (e.expires_at is not null and e.expires_at <= p_now) or not (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions))
  returning (select count(*) from pg_catalog.jsonb_object_keys(e.value)) into v_after;
  if not found then
    raise exception 'cache key % does not hold a set', p_key using errcode = '22023';
  end if;
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
  insert into private.cache_entries as e (key, kind, value, expires_at, created_at, updated_at)
  values (p_key, 'hash', pg_catalog.jsonb_build_object(p_field, p_value), private.cache_expiry(p_ttl_seconds, p_now), p_now, p_now)
  on conflict (key) do update
    set value = case when e.kind = 'hash' and (e.expires_at is null or e.expires_at > p_now) and (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions))
                     then e.value || excluded.value else excluded.value end,
        expires_at = case when e.kind = 'hash' and (e.expires_at is null or e.expires_at > p_now) and (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions))
                          then e.expires_at else excluded.expires_at end,
        kind = 'hash', tags = '{}', tag_versions = '{}', updated_at = excluded.updated_at
    where e.kind = 'hash' or (e.expires_at is not null and e.expires_at <= p_now) or not (e.tags = '{}' or private.cache_tags_current(e.tags, e.tag_versions));
  if not found then
    raise exception 'cache key % does not hold a hash', p_key using errcode = '22023';
  end if;
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
revoke execute on function private.cache_tag_versions_for(text[]) from public, anon, authenticated, service_role;
revoke execute on function private.cache_check_key(text) from public, anon, authenticated, service_role;
revoke execute on function private.cache_expiry(integer, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function private.cache_live_kind(text, timestamptz) from public, anon, authenticated, service_role;
grant execute on function private.cache_tags_current(text[], bigint[]) to service_role;
grant execute on function private.cache_tag_versions_for(text[]) to service_role;
grant execute on function private.cache_check_key(text) to service_role;
grant execute on function private.cache_expiry(integer, timestamptz) to service_role;
grant execute on function private.cache_live_kind(text, timestamptz) to service_role;

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
-- Job queue and message queue: one table, many named queues
-- ===========================================================================
create table if not exists private.job_queues (
  name text primary key,
  description text,
  default_max_attempts integer not null default 5,
  lease_seconds integer not null default 300,
  backoff_base_seconds numeric not null default 2,
  backoff_max_seconds numeric not null default 3600,
  retention interval not null default interval '30 days',
  created_at timestamptz not null default now(),
  constraint job_queues_name_format check (name ~ '^[a-z0-9][a-z0-9_.:/-]{0,62}$'),
  constraint job_queues_max_attempts check (default_max_attempts between 1 and 100),
  constraint job_queues_lease check (lease_seconds between 1 and 86400),
  constraint job_queues_backoff check (backoff_base_seconds > 0 and backoff_max_seconds >= backoff_base_seconds),
  constraint job_queues_retention check (retention >= interval '1 hour')
);

comment on table private.job_queues is
  'Named queues with their defaults: attempts, visibility lease, exponential backoff (base doubled per attempt, capped, jittered) and how long finished jobs are kept.';

create table if not exists private.job_types (
  job_type text primary key,
  queue_name text not null references private.job_queues (name),
  description text,
  user_may_enqueue boolean not null default false,
  max_attempts integer,
  constraint job_types_format check (job_type ~ '^[a-z0-9][a-z0-9_.:/-]{0,99}$'),
  constraint job_types_max_attempts check (max_attempts between 1 and 100)
);

comment on table private.job_types is
  'Known job types (seed 001 Inngest events): the queue each goes to, its attempts, and whether a signed-in user may enqueue it through schedule_job().';

create index if not exists job_types_queue_name_idx on private.job_types (queue_name);

create table if not exists private.jobs (
  id bigint generated always as identity primary key,
  queue_name text not null references private.job_queues (name),
  job_type text not null,
  job_name text,
  payload jsonb not null default '{}'::jsonb,
  status text not null default 'queued',
  priority integer not null default 0,
  run_at timestamptz not null default now(),
  attempts integer not null default 0,
  max_attempts integer not null,
  dedupe_key text,
  locked_by text,
  locked_until timestamptz,
  last_error text,
  errors jsonb not null default '[]'::jsonb,
  result jsonb,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz not null default now(),
  constraint jobs_status check (status in ('queued', 'active', 'completed', 'dead', 'cancelled')),
  constraint jobs_priority check (priority between -1000 and 1000),
  constraint jobs_attempts check (attempts >= 0 and max_attempts between 1 and 100),
  constraint jobs_payload_object check (jsonb_typeof(payload) = 'object'),
  constraint jobs_active_is_leased check (status <> 'active' or (locked_by is not null and locked_until is not null))
);

comment on table private.jobs is
  'Every job and message of every queue (seed 001 job_queue, seed 004 background_jobs and message_queue). queued -> active (leased to a worker) -> completed | queued again (retry with backoff) | dead (dead letter, requeue_job brings it back); cancelled. Finished rows are kept for the queue''s retention.';
comment on column private.jobs.dedupe_key is 'The same logical job is queued once: unique per queue among jobs not cancelled (kept with the history for the retention period). A user''s keys are prefixed with their id.';
comment on column private.jobs.locked_until is 'End of the visibility lease: an active job whose lease ran out (crashed worker) is handed out again by the next claim.';
comment on column private.jobs.errors is 'One {at, attempt, error} object per failed attempt, newest last (at most 25 kept).';
comment on column private.jobs.created_by is 'The user who enqueued it (null: the service role or the database).';

-- The access paths: claim (ready jobs by priority), lease expiry, dedupe,
-- a user's own jobs, retention.
create index if not exists jobs_claim_idx on private.jobs (queue_name, priority desc, run_at, id) where status = 'queued';
create index if not exists jobs_lease_idx on private.jobs (queue_name, locked_until) where status = 'active';
create unique index if not exists jobs_dedupe_key on private.jobs (queue_name, dedupe_key)
  where dedupe_key is not null and status <> 'cancelled';
create index if not exists jobs_created_by_idx on private.jobs (created_by, created_at desc) where created_by is not null;
create index if not exists jobs_finished_idx on private.jobs (queue_name, finished_at) where status in ('completed', 'dead', 'cancelled');
create index if not exists jobs_dead_idx on private.jobs (queue_name, id) where status = 'dead';

-- Inbox for idempotent consumers (seed 004 "idempotent message processing").
create table if not exists private.processed_messages (
  consumer text not null,
  message_key text not null,
  processed_at timestamptz not null default now(),
  primary key (consumer, message_key)
);

comment on table private.processed_messages is
  'Messages each consumer has already applied: mark_message_processed() inserts here in the consumer''s own transaction, so a redelivered message has its effect once.';
create index if not exists processed_messages_processed_at_idx on private.processed_messages (processed_at);

alter table private.job_queues enable row level security;
alter table private.job_types enable row level security;
alter table private.jobs enable row level security;
alter table private.processed_messages enable row level security;
revoke all on table private.job_queues, private.job_types, private.jobs, private.processed_messages
  from public, anon, authenticated, service_role;
-- Workers run as the service role: the worker RPCs are security invoker on
-- these grants (private is not exposed, so only the RPCs reach them). Users
-- reach their own jobs only through the definer functions further down.
grant select, insert, update, delete on table private.jobs to service_role;
grant select, insert, update on table private.job_queues to service_role;
grant select on table private.job_types to service_role;
grant select, insert, delete on table private.processed_messages to service_role;

-- The row type the job RPCs return (and what the service role may read).
create or replace view public.job_queue
with (security_invoker = true)
as
select j.id, j.queue_name, j.job_type, j.job_name, j.payload, j.status, j.priority, j.run_at, j.attempts,
       j.max_attempts, j.dedupe_key, j.locked_by, j.locked_until, j.last_error, j.errors, j.result, j.created_by,
       j.created_at, j.started_at, j.finished_at, j.updated_at
  from private.jobs as j;

comment on view public.job_queue is
  'Jobs as the RPCs return them (seed 001 job_queue). Readable directly only by the service role; users see their own jobs through list_jobs()/get_job().';
revoke all on public.job_queue from public, anon, authenticated, service_role;
grant select on public.job_queue to service_role;

-- Queues and job types of the seeds. Each domain adds its own queues with
-- create_queue() (the WhatsApp outbox, issue 9, is one).
insert into private.job_queues (name, description, default_max_attempts, lease_seconds) values
  ('default', 'Jobs of types without a queue of their own.', 5, 300),
  ('media', 'Video processing pipeline (transcribe, embed, mark complete).', 4, 1800),
  ('ai', 'LLM work such as quiz generation.', 4, 600),
  ('email', 'Outgoing email.', 5, 120),
  ('analytics', 'Rollups and other periodic aggregation.', 3, 3600),
  ('billing', 'Membership and plan changes from payment webhooks.', 10, 300)
on conflict (name) do nothing;

insert into private.job_types (job_type, queue_name, description, user_may_enqueue, max_attempts) values
  ('video/upload.completed', 'media', 'Seed 001: process an uploaded video (retries: 3).', true, 4),
  ('quiz/generation.requested', 'ai', 'Seed 001: generate a quiz with the LLM.', true, 4),
  ('email/send', 'email', 'Seed 001: send one email. Server-side only: users must not send arbitrary mail.', false, 5),
  ('analytics/daily.aggregate', 'analytics', 'Seed 001: the daily analytics rollup.', false, 3),
  ('membership/updated', 'billing', 'Seed 001: apply a plan change.', false, 10)
on conflict (job_type) do nothing;

-- Who is calling: 'service' (service role, or trusted server-side code with no
-- JWT at all), 'admin', 'user' or 'anon'. Identity only ever from the JWT.
create or replace function private.queue_caller()
returns text
language sql
stable
security invoker
set search_path = ''
as $$
  select case coalesce((select auth.jwt()) ->> 'role', 'service_role')
           when 'service_role' then 'service'
           when 'authenticated' then case when (select auth.uid()) is null then 'anon'
                                          when (select public.is_current_user_admin()) then 'admin'
                                          else 'user' end
           else 'anon'
         end;
$$;

comment on function private.queue_caller() is
  'service, admin, user or anon, from the JWT. No claims at all means trusted database code (pg_cron, another definer function).';

create or replace function public.create_queue(
  p_queue text,
  p_description text default null,
  p_max_attempts integer default 5,
  p_lease_seconds integer default 300,
  p_backoff_base_seconds numeric default 2,
  p_backoff_max_seconds numeric default 3600,
  p_retention interval default interval '30 days'
)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if p_queue is null or p_queue !~ '^[a-z0-9][a-z0-9_.:/-]{0,62}$' then
    raise exception 'invalid queue name: 1 to 63 of a-z 0-9 _ . : / -, starting with a letter or digit' using errcode = '22023';
  end if;
  begin
    insert into private.job_queues as q (name, description, default_max_attempts, lease_seconds, backoff_base_seconds, backoff_max_seconds, retention)
    values (p_queue, p_description, p_max_attempts, p_lease_seconds, p_backoff_base_seconds, p_backoff_max_seconds, p_retention)
    on conflict (name) do update
      set description = excluded.description, default_max_attempts = excluded.default_max_attempts,
          lease_seconds = excluded.lease_seconds, backoff_base_seconds = excluded.backoff_base_seconds,
          backoff_max_seconds = excluded.backoff_max_seconds, retention = excluded.retention;
  exception when check_violation or not_null_violation then
    raise exception 'invalid queue settings: attempts 1-100, lease 1-86400 s, backoff base > 0 and max >= base, retention >= 1 hour'
      using errcode = '22023';
  end;
end;
$$;

comment on function public.create_queue(text, text, integer, integer, numeric, numeric, interval) is
  'Creates a named queue or updates its defaults (attempts, lease seconds, backoff base and cap in seconds, retention of finished jobs). Service role. 22023 on bad settings.';

-- Adds one job; the heart of enqueue_job and schedule_job. A dedupe key
-- already taken in the queue returns the job holding it (race-free through
-- the unique index: the loser of a concurrent insert waits, then reads the
-- winner's row), never null and never a second job.
create or replace function private.insert_job(
  p_queue text,
  p_job_type text,
  p_job_name text,
  p_payload jsonb,
  p_run_at timestamptz,
  p_priority integer,
  p_max_attempts integer,
  p_dedupe_key text,
  p_created_by uuid,
  p_max_payload_bytes integer,
  p_now timestamptz
)
returns public.job_queue
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_queue private.job_queues;
  v_job public.job_queue;
begin
  if p_job_type is null or p_job_type !~ '^[a-z0-9][a-z0-9_.:/-]{0,99}$' then
    raise exception 'invalid job type: 1 to 100 of a-z 0-9 _ . : / -' using errcode = '22023';
  end if;
  if char_length(p_job_name) > 200 then
    raise exception 'invalid job name: at most 200 characters' using errcode = '22023';
  end if;
  if p_payload is null or jsonb_typeof(p_payload) <> 'object' then
    raise exception 'invalid payload: must be a JSON object' using errcode = '22023';
  end if;
  if pg_catalog.octet_length(p_payload::text) > p_max_payload_bytes then
    raise exception 'invalid payload: at most % bytes', p_max_payload_bytes using errcode = '22023';
  end if;
  if p_priority is null or p_priority not between -1000 and 1000 then
    raise exception 'invalid priority: must be between -1000 and 1000 (higher runs first)' using errcode = '22023';
  end if;
  if p_max_attempts is not null and p_max_attempts not between 1 and 100 then
    raise exception 'invalid max attempts: must be between 1 and 100' using errcode = '22023';
  end if;
  if p_dedupe_key is not null and char_length(p_dedupe_key) not between 1 and 300 then
    raise exception 'invalid dedupe key: must be 1 to 300 characters' using errcode = '22023';
  end if;
  select q.* into v_queue from private.job_queues as q where q.name = p_queue;
  if not found then
    raise exception 'unknown queue: %', p_queue using errcode = 'PT404', hint = 'Create it with create_queue().';
  end if;

  for i in 1 .. 3 loop
    insert into private.jobs as j (queue_name, job_type, job_name, payload, priority, run_at, max_attempts, dedupe_key,
                                   created_by, created_at, updated_at)
    values (p_queue, p_job_type, p_job_name, p_payload, p_priority, coalesce(p_run_at, p_now),
            coalesce(p_max_attempts, v_queue.default_max_attempts), p_dedupe_key, p_created_by, p_now, p_now)
    on conflict (queue_name, dedupe_key) where dedupe_key is not null and status <> 'cancelled' do nothing
    returning j.* into v_job;
    if found then
      return v_job;
    end if;
    select v.* into v_job from public.job_queue as v
     where v.queue_name = p_queue and v.dedupe_key = p_dedupe_key and v.status <> 'cancelled';
    if found then
      return v_job;
    end if;
    -- the holder was cancelled between our insert and read: try again
  end loop;
  raise exception 'could not enqueue: dedupe key % kept changing hands', p_dedupe_key using errcode = 'PT409';
end;
$$;

comment on function private.insert_job(text, text, text, jsonb, timestamptz, integer, integer, text, uuid, integer, timestamptz) is
  'Validates and inserts one job; with a dedupe key already taken in the queue, returns the job that holds it.';

create or replace function public.enqueue_job(
  p_queue text,
  p_payload jsonb default '{}'::jsonb,
  p_job_type text default null,
  p_job_name text default null,
  p_run_at timestamptz default null,
  p_delay_seconds integer default null,
  p_priority integer default 0,
  p_max_attempts integer default null,
  p_dedupe_key text default null,
  p_now timestamptz default now()
)
returns public.job_queue
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if p_delay_seconds is not null and (p_delay_seconds < 0 or p_run_at is not null) then
    raise exception 'invalid delay: p_delay_seconds must be >= 0 and not combined with p_run_at' using errcode = '22023';
  end if;
  return private.insert_job(p_queue, coalesce(p_job_type, p_queue), p_job_name, p_payload,
                            coalesce(p_run_at, p_now + pg_catalog.make_interval(secs => coalesce(p_delay_seconds, 0))),
                            p_priority, p_max_attempts, p_dedupe_key, null, 1048576, p_now);
end;
$$;

comment on function public.enqueue_job(text, jsonb, text, text, timestamptz, integer, integer, integer, text, timestamptz) is
  'Puts a job or message on a named queue (seed 004 message_queue; generic over the queue name for every domain): run at p_run_at or after p_delay_seconds, priority (higher first), max attempts (default: the queue''s), dedupe key (the same logical job is queued once; the existing job is returned). Service role. 22023 bad input, PT404 unknown queue.';

create or replace function private.schedule_job(
  p_job_type text,
  p_job_name text,
  p_payload jsonb,
  p_run_at timestamptz,
  p_priority integer,
  p_dedupe_key text,
  p_max_attempts integer
)
returns public.job_queue
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_caller text := private.queue_caller();
  v_type private.job_types;
  v_uid uuid := (select auth.uid());
begin
  if v_caller = 'anon' then
    raise exception 'you must be signed in to schedule a job' using errcode = '42501';
  end if;
  select t.* into v_type from private.job_types as t where t.job_type = p_job_type;
  if v_caller <> 'service' then
    -- Users get only the job types the API opens to them, with the type's own
    -- settings: no priority jumping, no attempts of their choosing.
    if v_type.job_type is null or not v_type.user_may_enqueue then
      raise exception 'job type % may not be scheduled by users', coalesce(p_job_type, 'null') using errcode = '42501';
    end if;
    if coalesce(p_priority, 0) <> 0 or p_max_attempts is not null then
      raise exception 'only the service role may set p_priority or p_max_attempts' using errcode = '42501';
    end if;
    return private.insert_job(v_type.queue_name, p_job_type, p_job_name, p_payload, p_run_at, 0, v_type.max_attempts,
                              case when p_dedupe_key is not null then 'user:' || v_uid::text || ':' || p_dedupe_key end,
                              v_uid, 65536, pg_catalog.now());
  end if;
  return private.insert_job(coalesce(v_type.queue_name, 'default'), p_job_type, p_job_name, p_payload, p_run_at,
                            coalesce(p_priority, 0), coalesce(p_max_attempts, v_type.max_attempts), p_dedupe_key,
                            null, 1048576, pg_catalog.now());
end;
$$;

comment on function private.schedule_job(text, text, jsonb, timestamptz, integer, text, integer) is
  'schedule_job for the caller from the JWT: users only for job types open to them (payload <= 64 KiB, their dedupe keys namespaced by user id); the service role for any type (unregistered types go to the default queue).';

create or replace function public.schedule_job(
  p_job_type text,
  p_job_name text default null,
  p_payload jsonb default '{}'::jsonb,
  p_run_at timestamptz default null,
  p_priority integer default 0,
  p_dedupe_key text default null,
  p_max_attempts integer default null
)
returns public.job_queue
language sql
volatile
security invoker
set search_path = ''
as $$
  select * from private.schedule_job(p_job_type, p_job_name, p_payload, p_run_at, p_priority, p_dedupe_key, p_max_attempts);
$$;

comment on function public.schedule_job(text, text, jsonb, timestamptz, integer, text, integer) is
  'Schedules a background job by type (seed 004 schedule_job; seed 001 inngest.send with its job types). Signed-in users may schedule the types open to them (video/upload.completed, quiz/generation.requested) and see them with list_jobs(); the service role any type. Errors: 42501 not allowed, 22023 bad input.';

create or replace function private.job_not_leased(p_job_id bigint, p_worker_id text)
returns void
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_status text;
  v_worker text;
begin
  select j.status, j.locked_by into v_status, v_worker from private.jobs as j where j.id = p_job_id;
  if v_status is null then
    raise exception 'job % not found', p_job_id using errcode = 'PT404';
  end if;
  raise exception 'job % is not leased to worker %', p_job_id, p_worker_id
    using errcode = 'PT409', detail = format('status = %s, locked_by = %s', v_status, coalesce(v_worker, 'nobody'));
end;
$$;

comment on function private.job_not_leased(bigint, text) is 'Raises PT404 (no such job) or PT409 (not active under this worker''s lease).';

create or replace function private.job_errors_append(p_errors jsonb, p_at timestamptz, p_attempt integer, p_error text)
returns jsonb
language sql
immutable
security invoker
set search_path = ''
as $$
  select coalesce(pg_catalog.jsonb_agg(t.e order by t.ord), '[]'::jsonb)
    from (select x.e, x.ord
            from pg_catalog.jsonb_array_elements(p_errors || pg_catalog.jsonb_build_array(
                   pg_catalog.jsonb_build_object('at', p_at, 'attempt', p_attempt, 'error', p_error))) with ordinality as x(e, ord)
           order by x.ord desc
           limit 25) as t;
$$;

comment on function private.job_errors_append(jsonb, timestamptz, integer, text) is 'Appends {at, attempt, error} to a job''s errors, keeping the last 25.';

-- Exponential backoff with equal jitter: half the delay fixed, half random,
-- so retries of jobs that failed together spread out.
create or replace function private.job_backoff_seconds(p_base numeric, p_max numeric, p_attempt integer)
returns numeric
language sql
volatile
security invoker
set search_path = ''
as $$
  select d / 2 + (pg_catalog.random()::numeric * d / 2)
    from (select least(p_max, p_base * pg_catalog.power(2::numeric, greatest(p_attempt - 1, 0))) as d) as s;
$$;

comment on function private.job_backoff_seconds(numeric, numeric, integer) is
  'Retry delay after attempt n: d = min(max, base * 2^(n-1)); a uniform value in [d/2, d].';

create or replace function public.claim_jobs(
  p_queue text,
  p_worker_id text,
  p_limit integer default 1,
  p_lease_seconds integer default null,
  p_now timestamptz default now()
)
returns setof public.job_queue
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_queue private.job_queues;
begin
  if p_worker_id is null or char_length(p_worker_id) not between 1 and 200 then
    raise exception 'invalid worker id: must be 1 to 200 characters' using errcode = '22023';
  end if;
  if p_limit is null or p_limit not between 1 and 1000 then
    raise exception 'invalid limit: must be between 1 and 1000' using errcode = '22023';
  end if;
  if p_lease_seconds is not null and p_lease_seconds not between 1 and 86400 then
    raise exception 'invalid lease: p_lease_seconds must be between 1 and 86400' using errcode = '22023';
  end if;
  select q.* into v_queue from private.job_queues as q where q.name = p_queue;
  if not found then
    raise exception 'unknown queue: %', p_queue using errcode = 'PT404';
  end if;

  -- Leases that ran out belong to crashed or stuck workers: the job goes back
  -- to the queue, or to the dead letters if that was its last attempt.
  with expired as (
    select j.id from private.jobs as j
     where j.queue_name = p_queue and j.status = 'active' and j.locked_until <= p_now
     order by j.locked_until
     limit 100
       for update skip locked
  )
  update private.jobs as j
     set status = case when j.attempts >= j.max_attempts then 'dead' else 'queued' end,
         run_at = p_now,
         last_error = format('lease expired: worker %s did not finish', j.locked_by),
         errors = private.job_errors_append(j.errors, p_now, j.attempts, format('lease expired: worker %s did not finish', j.locked_by)),
         finished_at = case when j.attempts >= j.max_attempts then p_now end,
         locked_by = null, locked_until = null, updated_at = p_now
    from expired
   where j.id = expired.id;

  -- skip locked: concurrent workers each take different rows, none waits.
  return query
  with picked as (
    select j.id from private.jobs as j
     where j.queue_name = p_queue and j.status = 'queued' and j.run_at <= p_now
     order by j.priority desc, j.run_at, j.id
     limit p_limit
       for update skip locked
  )
  update private.jobs as j
     set status = 'active', attempts = j.attempts + 1, locked_by = p_worker_id,
         locked_until = p_now + pg_catalog.make_interval(secs => coalesce(p_lease_seconds, v_queue.lease_seconds)),
         started_at = p_now, updated_at = p_now
    from picked
   where j.id = picked.id
  returning j.id, j.queue_name, j.job_type, j.job_name, j.payload, j.status, j.priority, j.run_at, j.attempts,
            j.max_attempts, j.dedupe_key, j.locked_by, j.locked_until, j.last_error, j.errors, j.result, j.created_by,
            j.created_at, j.started_at, j.finished_at, j.updated_at;
end;
$$;

comment on function public.claim_jobs(text, text, integer, integer, timestamptz) is
  'A worker takes up to p_limit ready jobs of a queue (priority first, then run_at): each is leased to p_worker_id for p_lease_seconds (default: the queue''s) and its attempt counted. for update skip locked: no job goes to two workers. Jobs whose lease expired are returned to the queue first. Service role.';

create or replace function public.complete_job(
  p_job_id bigint,
  p_worker_id text,
  p_result jsonb default null,
  p_now timestamptz default now()
)
returns public.job_queue
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_job public.job_queue;
begin
  update private.jobs as j
     set status = 'completed', result = p_result, finished_at = p_now, locked_by = null, locked_until = null, updated_at = p_now
   where j.id = p_job_id and j.status = 'active' and j.locked_by = p_worker_id
  returning j.* into v_job;
  if not found then
    perform private.job_not_leased(p_job_id, p_worker_id);
  end if;
  return v_job;
end;
$$;

comment on function public.complete_job(bigint, text, jsonb, timestamptz) is
  'Marks a job the worker holds as completed, with an optional result. PT409 if it is not active under this worker''s lease (expired and taken by another, cancelled), PT404 if there is no such job. Service role.';

create or replace function public.fail_job(
  p_job_id bigint,
  p_worker_id text,
  p_error text,
  p_retryable boolean default true,
  p_retry_in_seconds integer default null,
  p_now timestamptz default now()
)
returns public.job_queue
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_job public.job_queue;
begin
  if p_error is null or p_error = '' then
    raise exception 'invalid error: describe what went wrong' using errcode = '22023';
  end if;
  if p_retry_in_seconds is not null and p_retry_in_seconds not between 0 and 31536000 then
    raise exception 'invalid retry delay: p_retry_in_seconds must be between 0 and 31536000' using errcode = '22023';
  end if;
  update private.jobs as j
     set status = case when coalesce(p_retryable, true) and j.attempts < j.max_attempts then 'queued' else 'dead' end,
         run_at = case when coalesce(p_retryable, true) and j.attempts < j.max_attempts
                       then p_now + pg_catalog.make_interval(secs => coalesce(p_retry_in_seconds::numeric,
                              private.job_backoff_seconds(q.backoff_base_seconds, q.backoff_max_seconds, j.attempts))::double precision)
                       else j.run_at end,
         finished_at = case when coalesce(p_retryable, true) and j.attempts < j.max_attempts then null else p_now end,
         last_error = left(p_error, 2000),
         errors = private.job_errors_append(j.errors, p_now, j.attempts, left(p_error, 2000)),
         locked_by = null, locked_until = null, updated_at = p_now
    from private.job_queues as q
   where q.name = j.queue_name and j.id = p_job_id and j.status = 'active' and j.locked_by = p_worker_id
  returning j.id, j.queue_name, j.job_type, j.job_name, j.payload, j.status, j.priority, j.run_at, j.attempts,
            j.max_attempts, j.dedupe_key, j.locked_by, j.locked_until, j.last_error, j.errors, j.result, j.created_by,
            j.created_at, j.started_at, j.finished_at, j.updated_at
    into v_job;
  if not found then
    perform private.job_not_leased(p_job_id, p_worker_id);
  end if;
  return v_job;
end;
$$;

comment on function public.fail_job(bigint, text, text, boolean, integer, timestamptz) is
  'Records a failed attempt. With attempts left and p_retryable, the job is queued again after exponential backoff with jitter (or p_retry_in_seconds); otherwise it goes to the dead letters (status dead). PT409/PT404 as complete_job. Service role.';

create or replace function public.extend_job_lease(
  p_job_id bigint,
  p_worker_id text,
  p_lease_seconds integer default null,
  p_now timestamptz default now()
)
returns public.job_queue
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_job public.job_queue;
begin
  if p_lease_seconds is not null and p_lease_seconds not between 1 and 86400 then
    raise exception 'invalid lease: p_lease_seconds must be between 1 and 86400' using errcode = '22023';
  end if;
  update private.jobs as j
     set locked_until = p_now + pg_catalog.make_interval(secs => coalesce(p_lease_seconds, q.lease_seconds)), updated_at = p_now
    from private.job_queues as q
   where q.name = j.queue_name and j.id = p_job_id and j.status = 'active' and j.locked_by = p_worker_id
  returning j.id, j.queue_name, j.job_type, j.job_name, j.payload, j.status, j.priority, j.run_at, j.attempts,
            j.max_attempts, j.dedupe_key, j.locked_by, j.locked_until, j.last_error, j.errors, j.result, j.created_by,
            j.created_at, j.started_at, j.finished_at, j.updated_at
    into v_job;
  if not found then
    perform private.job_not_leased(p_job_id, p_worker_id);
  end if;
  return v_job;
end;
$$;

comment on function public.extend_job_lease(bigint, text, integer, timestamptz) is
  'Heartbeat: a worker still on a long job extends its lease by p_lease_seconds (default: the queue''s) from now. PT409/PT404 as complete_job. Service role.';

create or replace function public.requeue_job(p_job_id bigint, p_now timestamptz default now())
returns public.job_queue
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_job public.job_queue;
  v_status text;
begin
  begin
    update private.jobs as j
       set status = 'queued', attempts = 0, run_at = p_now, finished_at = null, locked_by = null, locked_until = null,
           updated_at = p_now
     where j.id = p_job_id and j.status in ('dead', 'cancelled')
    returning j.* into v_job;
  exception when unique_violation then
    raise exception 'job % cannot be requeued: another job with its dedupe key is queued', p_job_id using errcode = 'PT409';
  end;
  if not found then
    select j.status into v_status from private.jobs as j where j.id = p_job_id;
    if v_status is null then
      raise exception 'job % not found', p_job_id using errcode = 'PT404';
    end if;
    raise exception 'job % is %, only dead or cancelled jobs can be requeued', p_job_id, v_status using errcode = 'PT409';
  end if;
  return v_job;
end;
$$;

comment on function public.requeue_job(bigint, timestamptz) is
  'Takes a dead (or cancelled) job back into its queue with its attempts reset; its error history is kept. PT409 if it is not dead/cancelled, PT404 if missing. Service role.';

create or replace function public.requeue_dead_jobs(p_queue text, p_now timestamptz default now())
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_count integer;
begin
  if not exists (select 1 from private.job_queues as q where q.name = p_queue) then
    raise exception 'unknown queue: %', p_queue using errcode = 'PT404';
  end if;
  update private.jobs as j
     set status = 'queued', attempts = 0, run_at = p_now, finished_at = null, updated_at = p_now
   where j.queue_name = p_queue and j.status = 'dead';
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

comment on function public.requeue_dead_jobs(text, timestamptz) is
  'Redrives every dead job of a queue (the dead-letter queue) back into it; returns how many. Service role.';

create or replace function private.cancel_job(p_job_id bigint)
returns public.job_queue
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_caller text := private.queue_caller();
  v_job public.job_queue;
  v_found public.job_queue;
begin
  if v_caller = 'anon' then
    raise exception 'you must be signed in to cancel a job' using errcode = '42501';
  end if;
  select v.* into v_found from public.job_queue as v where v.id = p_job_id;
  if v_found.id is null or (v_caller = 'user' and v_found.created_by is distinct from (select auth.uid())) then
    raise exception 'job % not found', p_job_id using errcode = 'PT404';
  end if;
  -- A user may withdraw a job nobody has started; admins and the service role
  -- may also cancel a running one (its worker's complete/fail then gets PT409).
  update private.jobs as j
     set status = 'cancelled', finished_at = pg_catalog.now(), locked_by = null, locked_until = null, updated_at = pg_catalog.now()
   where j.id = p_job_id
     and (j.status = 'queued' or (j.status = 'active' and v_caller <> 'user'))
  returning j.* into v_job;
  if not found then
    raise exception 'job % is % and can no longer be cancelled', p_job_id, v_found.status using errcode = 'PT409';
  end if;
  return v_job;
end;
$$;

comment on function private.cancel_job(bigint) is 'cancel_job for the caller from the JWT: users their own queued jobs; admins and the service role any queued or active job.';

create or replace function public.cancel_job(p_job_id bigint)
returns public.job_queue
language sql
volatile
security invoker
set search_path = ''
as $$
  select * from private.cancel_job(p_job_id);
$$;

comment on function public.cancel_job(bigint) is
  'Cancels a job. Users: their own jobs while still queued; admins and the service role: any queued or active job. PT404 not found (or not yours), PT409 already running/finished.';

create or replace function private.list_jobs(p_queue text, p_status text, p_limit integer)
returns setof public.job_queue
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_caller text := private.queue_caller();
begin
  if v_caller = 'anon' then
    raise exception 'you must be signed in to list jobs' using errcode = '42501';
  end if;
  if p_status is not null and p_status not in ('queued', 'active', 'completed', 'dead', 'cancelled') then
    raise exception 'invalid status: one of queued, active, completed, dead, cancelled' using errcode = '22023';
  end if;
  if p_limit is null or p_limit not between 1 and 500 then
    raise exception 'invalid limit: must be between 1 and 500' using errcode = '22023';
  end if;
  if v_caller = 'user' then
    return query
      select v.* from public.job_queue as v
       where v.created_by = (select auth.uid())
         and (p_queue is null or v.queue_name = p_queue) and (p_status is null or v.status = p_status)
       order by v.created_at desc, v.id desc
       limit p_limit;
  else
    return query
      select v.* from public.job_queue as v
       where (p_queue is null or v.queue_name = p_queue) and (p_status is null or v.status = p_status)
       order by v.created_at desc, v.id desc
       limit p_limit;
  end if;
end;
$$;

comment on function private.list_jobs(text, text, integer) is 'list_jobs for the caller from the JWT: a user''s own jobs; admins and the service role every job.';

create or replace function public.list_jobs(p_queue text default null, p_status text default null, p_limit integer default 50)
returns setof public.job_queue
language sql
stable
security invoker
set search_path = ''
as $$
  select * from private.list_jobs(p_queue, p_status, p_limit);
$$;

comment on function public.list_jobs(text, text, integer) is
  'Jobs newest first, optionally of one queue and status. A signed-in user sees only the jobs they scheduled; admins and the service role see all. 22023 bad status or limit.';

create or replace function private.get_job(p_job_id bigint)
returns public.job_queue
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_caller text := private.queue_caller();
  v_job public.job_queue;
begin
  if v_caller = 'anon' then
    raise exception 'you must be signed in to read a job' using errcode = '42501';
  end if;
  select v.* into v_job from public.job_queue as v where v.id = p_job_id;
  if v_job.id is null or (v_caller = 'user' and v_job.created_by is distinct from (select auth.uid())) then
    raise exception 'job % not found', p_job_id using errcode = 'PT404';
  end if;
  return v_job;
end;
$$;

comment on function private.get_job(bigint) is 'get_job for the caller from the JWT.';

create or replace function public.get_job(p_job_id bigint)
returns public.job_queue
language sql
stable
security invoker
set search_path = ''
as $$
  select * from private.get_job(p_job_id);
$$;

comment on function public.get_job(bigint) is
  'One job: the user''s own, or any for admins and the service role. PT404 when missing or not yours.';

create or replace function public.get_queue_metrics(p_queue text default null, p_now timestamptz default now())
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_result jsonb;
begin
  if p_queue is not null and not exists (select 1 from private.job_queues as q where q.name = p_queue) then
    raise exception 'unknown queue: %', p_queue using errcode = 'PT404';
  end if;
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'queue', q.name,
           'ready', m.ready,
           'scheduled', m.scheduled,
           'retrying', m.retrying,
           'in_flight', m.in_flight,
           'lease_expired', m.lease_expired,
           'dead', m.dead,
           'completed', m.completed,
           'cancelled', m.cancelled,
           'oldest_ready_age_seconds', coalesce(pg_catalog.floor(extract(epoch from p_now - m.oldest_ready)), 0)
         ) order by q.name), '[]'::jsonb)
    into v_result
    from private.job_queues as q
    -- One subquery per state, each answered by the partial index for that
    -- state, so the history kept for retention is never scanned for the live counts.
    cross join lateral (
      select (select count(*) from private.jobs as j where j.queue_name = q.name and j.status = 'queued' and j.run_at <= p_now) as ready,
             (select count(*) from private.jobs as j where j.queue_name = q.name and j.status = 'queued' and j.run_at > p_now) as scheduled,
             (select count(*) from private.jobs as j where j.queue_name = q.name and j.status = 'queued' and j.attempts > 0) as retrying,
             (select count(*) from private.jobs as j where j.queue_name = q.name and j.status = 'active') as in_flight,
             (select count(*) from private.jobs as j where j.queue_name = q.name and j.status = 'active' and j.locked_until <= p_now) as lease_expired,
             (select count(*) from private.jobs as j where j.queue_name = q.name and j.status = 'dead') as dead,
             (select count(*) from private.jobs as j where j.queue_name = q.name and j.status = 'completed') as completed,
             (select count(*) from private.jobs as j where j.queue_name = q.name and j.status = 'cancelled') as cancelled,
             (select min(j.run_at) from private.jobs as j where j.queue_name = q.name and j.status = 'queued' and j.run_at <= p_now) as oldest_ready
    ) as m
   where p_queue is null or q.name = p_queue;
  return v_result;
end;
$$;

comment on function public.get_queue_metrics(text, timestamptz) is
  'Per queue: ready (depth), scheduled (run_at ahead), retrying, in flight, lease expired, dead (failed, in the dead letters), completed and cancelled within retention, age in seconds of the oldest ready job. A JSON array. Service role.';

create or replace function public.mark_message_processed(p_consumer text, p_message_key text, p_now timestamptz default now())
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if p_consumer is null or char_length(p_consumer) not between 1 and 200 then
    raise exception 'invalid consumer: must be 1 to 200 characters' using errcode = '22023';
  end if;
  if p_message_key is null or char_length(p_message_key) not between 1 and 300 then
    raise exception 'invalid message key: must be 1 to 300 characters' using errcode = '22023';
  end if;
  insert into private.processed_messages (consumer, message_key, processed_at)
  values (p_consumer, p_message_key, p_now)
  on conflict (consumer, message_key) do nothing;
  return found;
end;
$$;

comment on function public.mark_message_processed(text, text, timestamptz) is
  'Idempotent consumer (seed 004 idempotent message processing): call it in the same transaction as the message''s effect; true the first time for (consumer, message key), false on a redelivery, so the consumer skips the effect. A concurrent duplicate waits for the first and then gets false. Keys are kept 30 days. Service role.';

create or replace function public.cleanup_old_job_queue_records(p_now timestamptz default now())
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_jobs integer;
  v_inbox integer;
begin
  delete from private.jobs as j
   using private.job_queues as q
   where q.name = j.queue_name
     and j.status in ('completed', 'dead', 'cancelled')
     and j.finished_at < p_now - q.retention;
  get diagnostics v_jobs = row_count;
  delete from private.processed_messages as m where m.processed_at < p_now - interval '30 days';
  get diagnostics v_inbox = row_count;
  return v_jobs + v_inbox;
end;
$$;

comment on function public.cleanup_old_job_queue_records(timestamptz) is
  'Deletes finished jobs (completed, dead, cancelled) older than their queue''s retention (30 days by default; seed 001) and idempotency keys older than 30 days; returns how many rows. Scheduled daily (pg_cron job job-queue-cleanup). Service role.';

revoke execute on function private.queue_caller() from public, anon, authenticated, service_role;
revoke execute on function public.create_queue(text, text, integer, integer, numeric, numeric, interval) from public, anon, authenticated, service_role;
revoke execute on function private.insert_job(text, text, text, jsonb, timestamptz, integer, integer, text, uuid, integer, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.enqueue_job(text, jsonb, text, text, timestamptz, integer, integer, integer, text, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function private.schedule_job(text, text, jsonb, timestamptz, integer, text, integer) from public, anon, authenticated, service_role;
revoke execute on function public.schedule_job(text, text, jsonb, timestamptz, integer, text, integer) from public, anon, authenticated, service_role;
revoke execute on function private.job_not_leased(bigint, text) from public, anon, authenticated, service_role;
revoke execute on function private.job_errors_append(jsonb, timestamptz, integer, text) from public, anon, authenticated, service_role;
revoke execute on function private.job_backoff_seconds(numeric, numeric, integer) from public, anon, authenticated, service_role;
revoke execute on function public.claim_jobs(text, text, integer, integer, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.complete_job(bigint, text, jsonb, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.fail_job(bigint, text, text, boolean, integer, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.extend_job_lease(bigint, text, integer, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.requeue_job(bigint, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.requeue_dead_jobs(text, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function private.cancel_job(bigint) from public, anon, authenticated, service_role;
revoke execute on function public.cancel_job(bigint) from public, anon, authenticated, service_role;
revoke execute on function private.list_jobs(text, text, integer) from public, anon, authenticated, service_role;
revoke execute on function public.list_jobs(text, text, integer) from public, anon, authenticated, service_role;
revoke execute on function private.get_job(bigint) from public, anon, authenticated, service_role;
revoke execute on function public.get_job(bigint) from public, anon, authenticated, service_role;
revoke execute on function public.get_queue_metrics(text, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.mark_message_processed(text, text, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.cleanup_old_job_queue_records(timestamptz) from public, anon, authenticated, service_role;

-- queue_caller and the definer functions are reached by users through the
-- public wrappers; the worker side is the service role's alone.
grant execute on function private.queue_caller() to authenticated, service_role;
grant execute on function private.insert_job(text, text, text, jsonb, timestamptz, integer, integer, text, uuid, integer, timestamptz) to service_role;
grant execute on function private.schedule_job(text, text, jsonb, timestamptz, integer, text, integer) to authenticated, service_role;
grant execute on function private.cancel_job(bigint) to authenticated, service_role;
grant execute on function private.list_jobs(text, text, integer) to authenticated, service_role;
grant execute on function private.get_job(bigint) to authenticated, service_role;
grant execute on function private.job_not_leased(bigint, text) to service_role;
grant execute on function private.job_errors_append(jsonb, timestamptz, integer, text) to service_role;
grant execute on function private.job_backoff_seconds(numeric, numeric, integer) to service_role;
grant execute on function public.schedule_job(text, text, jsonb, timestamptz, integer, text, integer) to authenticated, service_role;
grant execute on function public.cancel_job(bigint) to authenticated, service_role;
grant execute on function public.list_jobs(text, text, integer) to authenticated, service_role;
grant execute on function public.get_job(bigint) to authenticated, service_role;
grant execute on function public.create_queue(text, text, integer, integer, numeric, numeric, interval) to service_role;
grant execute on function public.enqueue_job(text, jsonb, text, text, timestamptz, integer, integer, integer, text, timestamptz) to service_role;
grant execute on function public.claim_jobs(text, text, integer, integer, timestamptz) to service_role;
grant execute on function public.complete_job(bigint, text, jsonb, timestamptz) to service_role;
grant execute on function public.fail_job(bigint, text, text, boolean, integer, timestamptz) to service_role;
grant execute on function public.extend_job_lease(bigint, text, integer, timestamptz) to service_role;
grant execute on function public.requeue_job(bigint, timestamptz) to service_role;
grant execute on function public.requeue_dead_jobs(text, timestamptz) to service_role;
grant execute on function public.get_queue_metrics(text, timestamptz) to service_role;
grant execute on function public.mark_message_processed(text, text, timestamptz) to service_role;
grant execute on function public.cleanup_old_job_queue_records(timestamptz) to service_role;

-- ===========================================================================
-- Event store
-- ===========================================================================
-- Global position: a sequence value, so it is taken before commit and
-- transactions can commit out of position order. A reader that polls "after
-- position N" would then skip an event that commits late (the classic event
-- store bug). Each event therefore also carries transaction_order: the id of
-- the transaction that wrote it (pg_current_xact_id), raised to the stream's
-- previous value so it never decreases along a stream. Readers read in
-- (transaction_order, global_position) order and only below the oldest
-- transaction still running (pg_snapshot_xmin): every event below that line
-- is settled, and every event still to commit is at or above it. The proof is
-- in docs/platform.md.
create sequence if not exists private.event_store_global_position;
comment on sequence private.event_store_global_position is 'Global position of events in public.event_store.';

create table if not exists public.event_store (
  global_position bigint not null,
  created_at timestamptz not null default now(),
  transaction_order bigint not null,
  event_id uuid not null,
  aggregate_type text not null,
  aggregate_id text not null,
  version bigint not null,
  event_type text not null,
  payload jsonb not null,
  metadata jsonb not null default '{}'::jsonb,
  correlation_id uuid,
  causation_id uuid,
  created_by uuid,
  primary key (global_position, created_at),
  constraint event_store_version_positive check (version >= 1),
  constraint event_store_metadata_object check (jsonb_typeof(metadata) = 'object')
) partition by range (created_at);

comment on table public.event_store is
  'Append-only event log (seed 004 event_store): one stream per (aggregate_type, aggregate_id), versions 1, 2, ... without gaps. Partitioned by month on created_at. Written only by append_event(); read by the service role through get_aggregate_events() and read_events().';
comment on column public.event_store.global_position is 'Sequence number across all streams (unique, not commit-ordered: see transaction_order).';
comment on column public.event_store.transaction_order is 'Writer''s transaction id, never less than the stream''s previous event''s: readers order by (transaction_order, global_position) below the xmin horizon.';
comment on column public.event_store.aggregate_type is 'The stream category (message-db category): read_events() can follow one.';
comment on column public.event_store.correlation_id is 'The request or workflow this event belongs to (distributed tracing).';
comment on column public.event_store.causation_id is 'The event or command that caused this one.';
comment on column public.event_store.created_by is 'The signed-in user whose request appended it, if any.';

create index if not exists event_store_stream_idx on public.event_store (aggregate_type, aggregate_id, version);
create index if not exists event_store_order_idx on public.event_store (transaction_order, global_position);
create index if not exists event_store_category_order_idx on public.event_store (aggregate_type, transaction_order, global_position);
create index if not exists event_store_type_order_idx on public.event_store (event_type, transaction_order, global_position);
create index if not exists event_store_correlation_idx on public.event_store (correlation_id) where correlation_id is not null;

alter table public.event_store enable row level security;
revoke all on table public.event_store from public, anon, authenticated, service_role;
grant select on table public.event_store to service_role;

select private.register_partitioned_table('public.event_store', p_premake => 3, p_retention => null);

-- One row per stream: its current version. Appends lock it, which is the
-- optimistic-concurrency check and what orders a stream's events.
create table if not exists private.event_streams (
  aggregate_type text not null,
  aggregate_id text not null,
  version bigint not null default 0,
  last_transaction_order bigint not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (aggregate_type, aggregate_id)
);

comment on table private.event_streams is
  'Head of each event stream: current version and the transaction_order of its last event. Locked by append_event for the duration of the append.';

alter table private.event_streams enable row level security;
revoke all on table private.event_streams from public, anon, authenticated, service_role;
grant select on table private.event_streams to service_role;

create or replace function private.append_event(
  p_aggregate_id text,
  p_aggregate_type text,
  p_event_type text,
  p_payload jsonb,
  p_metadata jsonb,
  p_expected_version bigint,
  p_event_id uuid,
  p_correlation_id uuid,
  p_causation_id uuid
)
returns public.event_store
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_expected bigint := case when p_expected_version = -1 then 0 else p_expected_version end;
  v_stream private.event_streams;
  v_event public.event_store;
  v_order bigint;
begin
  if p_aggregate_type is null or p_aggregate_type !~ '^[A-Za-z][A-Za-z0-9_.-]{0,62}$' then
    raise exception 'invalid aggregate type: 1 to 63 letters, digits, _ . -, starting with a letter' using errcode = '22023';
  end if;
  if p_aggregate_id is null or char_length(p_aggregate_id) not between 1 and 200 then
    raise exception 'invalid aggregate id: must be 1 to 200 characters' using errcode = '22023';
  end if;
  if p_event_type is null or char_length(p_event_type) not between 1 and 200 then
    raise exception 'invalid event type: must be 1 to 200 characters' using errcode = '22023';
  end if;
  if p_payload is null then
    raise exception 'invalid payload: must not be null' using errcode = '22023';
  end if;
  if pg_catalog.octet_length(p_payload::text) > 1048576 then
    raise exception 'invalid payload: at most 1 MiB' using errcode = '22023';
  end if;
  if p_metadata is not null and jsonb_typeof(p_metadata) <> 'object' then
    raise exception 'invalid metadata: must be a JSON object' using errcode = '22023';
  end if;
  if p_expected_version < -1 then
    raise exception 'invalid expected version: null (any), -1 or 0 (new stream), or the stream''s current version' using errcode = '22023';
  end if;

  -- Lock the stream head (created on first append). A concurrent append to
  -- the same stream waits here and then sees the new version.
  insert into private.event_streams (aggregate_type, aggregate_id) values (p_aggregate_type, p_aggregate_id)
  on conflict (aggregate_type, aggregate_id) do nothing;
  select s.* into v_stream from private.event_streams as s
   where s.aggregate_type = p_aggregate_type and s.aggregate_id = p_aggregate_id
     for update;

  -- Same event id appended again (a retried request): the original, no copy.
  if p_event_id is not null then
    select e.* into v_event from public.event_store as e
     where e.aggregate_type = p_aggregate_type and e.aggregate_id = p_aggregate_id and e.event_id = p_event_id;
    if found then
      return v_event;
    end if;
  end if;

  if v_expected is not null and v_expected <> v_stream.version then
    raise exception 'wrong expected version: expected %, stream %/% is at version %',
      p_expected_version, p_aggregate_type, p_aggregate_id, v_stream.version
      using errcode = 'PT409', hint = 'Reload the aggregate and retry.';
  end if;

  v_order := greatest(pg_catalog.pg_current_xact_id()::text::bigint, v_stream.last_transaction_order);
  insert into public.event_store as e (global_position, created_at, transaction_order, event_id, aggregate_type, aggregate_id,
                                       version, event_type, payload, metadata, correlation_id, causation_id, created_by)
  values (pg_catalog.nextval('private.event_store_global_position'), pg_catalog.now(), v_order,
          coalesce(p_event_id, extensions.gen_random_uuid()), p_aggregate_type, p_aggregate_id, v_stream.version + 1,
          p_event_type, p_payload, coalesce(p_metadata, '{}'::jsonb), p_correlation_id, p_causation_id, (select auth.uid()))
  returning e.* into v_event;
  update private.event_streams as s
     set version = v_event.version, last_transaction_order = v_order, updated_at = pg_catalog.now()
   where s.aggregate_type = p_aggregate_type and s.aggregate_id = p_aggregate_id;
  return v_event;
end;
$$;

comment on function private.append_event(text, text, text, jsonb, jsonb, bigint, uuid, uuid, uuid) is
  'append_event: validates, locks the stream head, returns the original on a repeated event id, checks the expected version, appends.';

-- The public wrapper is plpgsql: a `language sql` function with a SET clause
-- is never inlined, and Postgres 15 plans its statement again on every call;
-- a plpgsql body keeps its plan.
create or replace function public.append_event(
  p_aggregate_id text,
  p_aggregate_type text,
  p_event_type text,
  p_payload jsonb,
  p_metadata jsonb default '{}'::jsonb,
  p_expected_version bigint default null,
  p_event_id uuid default null,
  p_correlation_id uuid default null,
  p_causation_id uuid default null
)
returns public.event_store
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  return private.append_event(p_aggregate_id, p_aggregate_type, p_event_type, p_payload, p_metadata,
                              p_expected_version, p_event_id, p_correlation_id, p_causation_id);
end;
$$;

comment on function public.append_event(text, text, text, jsonb, jsonb, bigint, uuid, uuid, uuid) is
  'Appends one event to the stream (p_aggregate_type, p_aggregate_id) and returns it with its version (seed 004). p_expected_version: null appends at any version, 0 or -1 only to a new stream, n only if the stream is at n, else PT409 "wrong expected version". The same p_event_id appended twice to a stream returns the first copy. Service role.';

create or replace function public.get_aggregate_events(
  p_aggregate_type text,
  p_aggregate_id text,
  p_from_version bigint default 1,
  p_limit integer default 1000
)
returns setof public.event_store
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  if p_aggregate_type is null or p_aggregate_id is null then
    raise exception 'invalid stream: p_aggregate_type and p_aggregate_id are required' using errcode = '22023';
  end if;
  if p_limit is null or p_limit not between 1 and 10000 then
    raise exception 'invalid limit: must be between 1 and 10000' using errcode = '22023';
  end if;
  return query
    select e.* from public.event_store as e
     where e.aggregate_type = p_aggregate_type and e.aggregate_id = p_aggregate_id
       and e.version >= coalesce(p_from_version, 1)
     order by e.version
     limit p_limit;
end;
$$;

comment on function public.get_aggregate_events(text, text, bigint, integer) is
  'The events of one stream in version order, from p_from_version, at most p_limit (seed 004). Service role.';

create or replace function public.read_events(
  p_after_transaction_order bigint default 0,
  p_after_position bigint default 0,
  p_limit integer default 1000,
  p_aggregate_type text default null,
  p_event_type text default null
)
returns setof public.event_store
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_horizon bigint := pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text::bigint;
begin
  if p_after_transaction_order is null or p_after_position is null then
    raise exception 'invalid cursor: pass the last event''s transaction_order and global_position (0, 0 from the start)'
      using errcode = '22023';
  end if;
  if p_limit is null or p_limit not between 1 and 10000 then
    raise exception 'invalid limit: must be between 1 and 10000' using errcode = '22023';
  end if;
  return query
    select e.* from public.event_store as e
     where (e.transaction_order, e.global_position) > (p_after_transaction_order, p_after_position)
       and e.transaction_order < v_horizon
       and (p_aggregate_type is null or e.aggregate_type = p_aggregate_type)
       and (p_event_type is null or e.event_type = p_event_type)
     order by e.transaction_order, e.global_position
     limit p_limit;
end;
$$;

comment on function public.read_events(bigint, bigint, integer, text, text) is
  'Events across streams in commit-safe order for position-based readers (projections, outboxes): after the cursor (transaction_order, global_position) of the last event read, optionally of one aggregate type (category) or event type. Returns only events no running transaction can still precede, so a late-committing event is never skipped: it shows up later, after the cursor. Service role.';

create or replace function public.get_correlated_events(p_correlation_id uuid, p_limit integer default 1000)
returns setof public.event_store
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  if p_correlation_id is null then
    raise exception 'invalid correlation id: required' using errcode = '22023';
  end if;
  if p_limit is null or p_limit not between 1 and 10000 then
    raise exception 'invalid limit: must be between 1 and 10000' using errcode = '22023';
  end if;
  return query
    select e.* from public.event_store as e
     where e.correlation_id = p_correlation_id
     order by e.global_position
     limit p_limit;
end;
$$;

comment on function public.get_correlated_events(uuid, integer) is
  'Every event of one request or workflow across streams, by correlation id (seed 004 "use correlation IDs for distributed tracing"). Service role.';

revoke execute on function private.append_event(text, text, text, jsonb, jsonb, bigint, uuid, uuid, uuid) from public, anon, authenticated, service_role;
revoke execute on function public.append_event(text, text, text, jsonb, jsonb, bigint, uuid, uuid, uuid) from public, anon, authenticated, service_role;
revoke execute on function public.get_aggregate_events(text, text, bigint, integer) from public, anon, authenticated, service_role;
revoke execute on function public.read_events(bigint, bigint, integer, text, text) from public, anon, authenticated, service_role;
grant execute on function private.append_event(text, text, text, jsonb, jsonb, bigint, uuid, uuid, uuid) to service_role;
grant execute on function public.append_event(text, text, text, jsonb, jsonb, bigint, uuid, uuid, uuid) to service_role;
grant execute on function public.get_aggregate_events(text, text, bigint, integer) to service_role;
grant execute on function public.read_events(bigint, bigint, integer, text, text) to service_role;
revoke execute on function public.get_correlated_events(uuid, integer) from public, anon, authenticated, service_role;
grant execute on function public.get_correlated_events(uuid, integer) to service_role;

-- ===========================================================================
-- Scheduled maintenance (cron.schedule upserts by name)
-- ===========================================================================
select cron.schedule('cache-cleanup', '*/5 * * * *', 'select public.cleanup_expired_cache()');
select cron.schedule('job-queue-cleanup', '41 3 * * *', 'select public.cleanup_old_job_queue_records()');
