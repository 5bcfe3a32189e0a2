-- Platform fast paths: the cache's hot calls (get_cache, set_cache) made
-- cheaper without changing what they do. Measured with pgbench against
-- `select 1` (docs/platform.md, Benchmarks), profiled with perf:
--
-- * Check constraints on cache_entries cost more than the write itself. On
--   Postgres 15 every INSERT or UPDATE statement re-reads each check
--   constraint's expression from its stored text and plans it before the
--   first row (ExecRelCheck), and checks all of them on every UPDATE whatever
--   columns it sets. The key-length and kind rules move into domains, whose
--   checks are planned once per connection (type cache) and run only when the
--   column is assigned. Same rules, same SQLSTATE (23514) for a direct write
--   that breaks them. The third check (tags and tag_versions of equal length)
--   spans two columns, so no domain can hold it: the functions that write
--   tags build both arrays together, and a tagged row that is misaligned anyway
--   (only hand-written SQL could make one) reads as a miss.
-- * set_cache overwrites with a plain UPDATE and inserts only when the key is
--   new: no speculative insertion and row lock before the update.
-- * get_cache counts a hit inside the condition that returns it (a simple
--   expression) instead of with PERFORM (a whole executor run), and checks
--   the key for null only on a miss. Counting stays exact: one nextval on an
--   unlogged sequence per call.

-- ---------------------------------------------------------------------------
-- Domains in place of the key and kind check constraints
-- ---------------------------------------------------------------------------
do $$
begin
  if not exists (select 1 from pg_catalog.pg_type as t join pg_catalog.pg_namespace as n on n.oid = t.typnamespace
                  where n.nspname = 'private' and t.typname = 'cache_key') then
    create domain private.cache_key as text collate "C"
      constraint cache_key_length check (char_length(value) between 1 and 512);
  end if;
  if not exists (select 1 from pg_catalog.pg_type as t join pg_catalog.pg_namespace as n on n.oid = t.typnamespace
                  where n.nspname = 'private' and t.typname = 'cache_kind') then
    create domain private.cache_kind as text
      constraint cache_kind_known check (value in ('value', 'counter', 'list', 'set', 'hash'));
  end if;
end;
$$;

comment on domain private.cache_key is
  'A cache key: 1 to 512 characters, byte-ordered (collate "C") so prefix deletes use the primary key. A domain rather than a table check: checked only when a key is written.';
comment on domain private.cache_kind is
  'What a cache entry holds: value, counter, list, set or hash. A domain rather than a table check: checked only when kind is written.';

alter table private.cache_entries drop constraint if exists cache_entries_key_length;
alter table private.cache_entries drop constraint if exists cache_entries_kind;
alter table private.cache_entries drop constraint if exists cache_entries_tags_aligned;
alter table private.cache_entries
  alter column key type private.cache_key,
  alter column kind type private.cache_kind;

comment on column private.cache_entries.tag_versions is
  'Version of each tag when the entry was written, aligned with tags; a tag whose version has moved on, or arrays of different lengths, make the entry a miss.';

-- An entry is current only with aligned arrays (the rule the dropped check kept).
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

-- ---------------------------------------------------------------------------
-- get_cache
-- ---------------------------------------------------------------------------
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

-- ---------------------------------------------------------------------------
-- set_cache
-- ---------------------------------------------------------------------------
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

-- create or replace keeps the grants; restated so this file reads complete.
revoke execute on function public.get_cache(text, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.set_cache(text, jsonb, integer, text[], timestamptz) from public, anon, authenticated, service_role;
grant execute on function public.get_cache(text, timestamptz) to service_role;
grant execute on function public.set_cache(text, jsonb, integer, text[], timestamptz) to service_role;

-- ---------------------------------------------------------------------------
-- append_event: the public wrapper in plpgsql
-- ---------------------------------------------------------------------------
-- A `language sql` function with a SET clause is never inlined, and Postgres
-- 15 plans its statement again on every call; a plpgsql body keeps its plan.
-- Same signature, same result, same errors (all raised by the private body).
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

revoke execute on function public.append_event(text, text, text, jsonb, jsonb, bigint, uuid, uuid, uuid) from public, anon, authenticated, service_role;
grant execute on function public.append_event(text, text, text, jsonb, jsonb, bigint, uuid, uuid, uuid) to service_role;
