-- Event store (platform): append-only, versioned event streams with
-- correlation and causation ids, read in a commit-safe global order.
-- Seeds: 004 event_store (partitioned, versioned, correlation/causation),
-- append_event, get_aggregate_events. Mapping and semantics: docs/platform.md.

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
  perform private.require_json_size(p_metadata, 'metadata', 65536);
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
  'Appends one event to the stream (p_aggregate_type, p_aggregate_id) and returns it with its version (seed 004). Payload at most 1 MiB, metadata 64 KiB. p_expected_version: null appends at any version, 0 or -1 only to a new stream, n only if the stream is at n, else PT409 "wrong expected version". The same p_event_id appended twice to a stream returns the first copy. Service role.';

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
