-- Queues (platform): the job queue and the message queue, one table with many
-- named queues, job types with retries and backoff, leases, dead letters, and
-- idempotent message processing (processed_messages). Replaces the seeds'
-- Inngest jobs with tables transactional with the writes that enqueue them.
-- Seeds: 001 job_queue and its job types with retries,
-- cleanup_old_job_queue_records; 004 message_queue (idempotent processing),
-- background_jobs and schedule_job. Mapping and semantics: docs/platform.md.

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
  constraint job_queues_backoff check (backoff_base_seconds > 0 and backoff_max_seconds >= backoff_base_seconds
                                       and backoff_max_seconds <= 31536000),
  -- NaN and Infinity pass the comparisons above (NaN sorts above every number)
  constraint job_queues_backoff_finite check (backoff_base_seconds not in ('NaN', 'Infinity', '-Infinity')
                                              and backoff_max_seconds not in ('NaN', 'Infinity', '-Infinity')),
  -- bounded above so that now() - retention (the cleanup) stays a timestamp
  constraint job_queues_retention check (retention between interval '1 hour' and interval '10 years')
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
  constraint jobs_active_is_leased check (status <> 'active' or (locked_by is not null and locked_until is not null)),
  -- Every time here is compared and subtracted by the claim, the metrics and
  -- the health check: an infinite one would sort ahead of everyone's jobs
  -- and overflow those aggregates (22008).
  constraint jobs_times_finite check (isfinite(run_at) and isfinite(created_at) and isfinite(updated_at)
                                      and isfinite(locked_until) is not false and isfinite(started_at) is not false
                                      and isfinite(finished_at) is not false)
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
  perform private.require_text_length(p_description, 'description', 1000);
  perform private.require_finite(p_backoff_base_seconds, 'backoff base');
  perform private.require_finite(p_backoff_max_seconds, 'backoff max');
  begin
    insert into private.job_queues as q (name, description, default_max_attempts, lease_seconds, backoff_base_seconds, backoff_max_seconds, retention)
    values (p_queue, p_description, p_max_attempts, p_lease_seconds, p_backoff_base_seconds, p_backoff_max_seconds, p_retention)
    on conflict (name) do update
      set description = excluded.description, default_max_attempts = excluded.default_max_attempts,
          lease_seconds = excluded.lease_seconds, backoff_base_seconds = excluded.backoff_base_seconds,
          backoff_max_seconds = excluded.backoff_max_seconds, retention = excluded.retention;
  exception when check_violation or not_null_violation then
    raise exception 'invalid queue settings: attempts 1-100, lease 1-86400 s, backoff base > 0 and max >= base (at most a year), retention 1 hour to 10 years'
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
  perform private.platform_require_clock(p_now);
  perform private.platform_require_service_time(p_run_at, 'run time', p_now);
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
  'Validates and inserts one job (run time finite and within 10 years of p_now: private.platform_require_service_time); with a dedupe key already taken in the queue, returns the job that holds it.';

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
  perform private.platform_require_clock(p_now);
  return private.insert_job(p_queue, coalesce(p_job_type, p_queue), p_job_name, p_payload,
                            coalesce(p_run_at, p_now + pg_catalog.make_interval(secs => coalesce(p_delay_seconds, 0))),
                            p_priority, p_max_attempts, p_dedupe_key, null, 1048576, p_now);
end;
$$;

comment on function public.enqueue_job(text, jsonb, text, text, timestamptz, integer, integer, integer, text, timestamptz) is
  'Puts a job or message on a named queue (seed 004 message_queue; generic over the queue name for every domain): run at p_run_at or after p_delay_seconds, priority (higher first), max attempts (default: the queue''s), dedupe key (the same logical job is queued once; the existing job is returned). Service role. 22023 bad input, PT404 unknown queue.';

-- What a user's job costs: its feature's plan allowance (quiz generation is
-- LLM work: basic 3 an hour; video processing likewise), and always one of
-- the general jobs quota, which is finite on every plan (a feature quota may
-- be unlimited on the top plan) and so bounds how many rows one account can
-- queue. PT429 (HTTP 429) when either is spent.
create or replace function private.consume_job_quota(p_job_type text)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if p_job_type = 'quiz/generation.requested' then
    perform private.consume_quota('quiz_generation');
  elsif p_job_type = 'video/upload.completed' then
    perform private.consume_quota('video_upload');
  end if;
  perform private.consume_quota('jobs');
end;
$$;

comment on function private.consume_job_quota(text) is
  'Consumes a user''s quota for one job of p_job_type: quiz_generation or video_upload for those types, and jobs for every type. PT429 when spent; a no-op for the service role.';

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
    perform private.require_time_between(p_run_at, 'run time', pg_catalog.now() - private.user_time_skew(),
                                         pg_catalog.now() + private.user_time_horizon());
    perform private.consume_job_quota(p_job_type);
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
  'schedule_job for the caller from the JWT: users only for job types open to them (payload <= 64 KiB, run time within the user window, their dedupe keys namespaced by user id, each call consuming the type''s quota: private.consume_job_quota); the service role for any type (unregistered types go to the default queue).';

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
  'Schedules a background job by type (seed 004 schedule_job; seed 001 inngest.send with its job types). Signed-in users may schedule the types open to them (video/upload.completed, quiz/generation.requested) at a run time from 5 minutes ago to a year ahead, within their plan''s quotas (quiz_generation, video_upload, jobs), and see them with list_jobs(); the service role any type, any run time within 10 years. Errors: 42501 not allowed, 22023 bad input, PT429 quota spent.';

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
  perform private.platform_require_clock(p_now);
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
  perform private.platform_require_clock(p_now);
  perform private.require_json_size(p_result, 'result', 1048576);
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
  perform private.platform_require_clock(p_now);
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
  perform private.platform_require_clock(p_now);
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
  perform private.platform_require_clock(p_now);
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
  perform private.platform_require_clock(p_now);
  update private.jobs as j
     set status = 'queued', attempts = 0, run_at = p_now, finished_at = null, updated_at = p_now
   where j.queue_name = p_queue and j.status = 'dead';
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

comment on function public.requeue_dead_jobs(text, timestamptz) is
  'Redrives every dead job of a queue (the dead-letter queue) back into it; returns how many. Service role.';

-- The job a reader may see: 42501 for anon ('you must be signed in to
-- <p_action>'), PT404 for a missing job or, for a plain user, one they did
-- not schedule (no hint that it exists). Shared by cancel_job and get_job.
create or replace function private.find_visible_job(p_job_id bigint, p_caller text, p_action text)
returns public.job_queue
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_job public.job_queue;
begin
  if p_caller = 'anon' then
    raise exception 'you must be signed in to %', p_action using errcode = '42501';
  end if;
  select v.* into v_job from public.job_queue as v where v.id = p_job_id;
  if v_job.id is null or (p_caller = 'user' and v_job.created_by is distinct from (select auth.uid())) then
    raise exception 'job % not found', p_job_id using errcode = 'PT404';
  end if;
  return v_job;
end;
$$;

comment on function private.find_visible_job(bigint, text, text) is
  'The job p_caller (private.queue_caller()) may see: 42501 for anon, PT404 when missing or, for a user, not theirs.';

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
  v_found public.job_queue := private.find_visible_job(p_job_id, v_caller, 'cancel a job');
begin
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
begin
  return private.find_visible_job(p_job_id, private.queue_caller(), 'read a job');
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
  perform private.platform_require_clock(p_now);
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
           -- Clamped to a century: whatever a row holds, the age is a number.
           'oldest_ready_age_seconds', coalesce(pg_catalog.floor(extract(epoch from
             p_now - case when m.oldest_ready < p_now - interval '100 years' then p_now - interval '100 years'
                          else m.oldest_ready end)), 0)
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
  perform private.platform_require_clock(p_now);
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
  perform private.platform_require_clock(p_now);
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
revoke execute on function private.consume_job_quota(text) from public, anon, authenticated, service_role;
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
revoke execute on function private.find_visible_job(bigint, text, text) from public, anon, authenticated, service_role;
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
grant execute on function private.consume_job_quota(text) to authenticated, service_role;
grant execute on function private.schedule_job(text, text, jsonb, timestamptz, integer, text, integer) to authenticated, service_role;
grant execute on function private.find_visible_job(bigint, text, text) to authenticated, service_role;
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
-- Scheduled maintenance (cron.schedule upserts by name)
-- ===========================================================================
select cron.schedule('job-queue-cleanup', '41 3 * * *', 'select public.cleanup_old_job_queue_records()');

-- ===========================================================================
-- The worker's schedule (docs/platform.md "Workers")
-- ===========================================================================
-- The worker is an edge function (supabase/functions/worker). On a hosted
-- project pg_cron calls it through pg_net, with the project URL and the
-- secret key kept in Vault, as Supabase documents for scheduling edge
-- functions (guides/functions/schedule-functions). The local stack has no
-- pg_net: its gateway calls the worker on the same schedule itself.
--
-- net.http_post and vault are reached through dynamic SQL built with
-- format(): the function must exist (and pass plpgsql_check, which checks
-- constant query strings) in a database without pg_net or Vault, where it
-- refuses with the steps to take.
create or replace function private.invoke_worker(p_body jsonb default '{}'::jsonb)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_url text;
  v_key text;
  v_request bigint;
  -- Looked up, not named: projects without pg_net or Vault have neither
  -- (and the dynamic SQL below stays out of static checks that would fail there).
  v_http_post regprocedure := pg_catalog.to_regprocedure('net.http_post(text, jsonb, jsonb, jsonb, integer)');
  v_secrets regclass := pg_catalog.to_regclass('vault.decrypted_secrets');
begin
  if v_http_post is null then
    raise exception 'pg_net is not enabled: the worker cannot be called from the database'
      using errcode = '55000', hint = 'create extension pg_net; (Dashboard: Database > Extensions), then see docs/platform.md "Workers".';
  end if;
  if v_secrets is not null then
    execute pg_catalog.format('select (select s.decrypted_secret from %1$s as s where s.name = $1),
                                      (select s.decrypted_secret from %1$s as s where s.name = $2)', v_secrets)
       into v_url, v_key using 'project_url', 'worker_secret_key';
  end if;
  if v_url is null or v_key is null then
    raise exception 'the Vault secrets project_url and worker_secret_key are required to call the worker'
      using errcode = '55000',
            hint = 'select vault.create_secret(''https://<project-ref>.supabase.co'', ''project_url''); select vault.create_secret(''<a secret key, sb_secret_...>'', ''worker_secret_key'');';
  end if;
  -- pg_net is asynchronous: this queues the request and returns its id. The
  -- timeout covers the worker's budget (WORKER_BUDGET_MS, 25 s by default).
  execute pg_catalog.format('select %s(url := $1, body := $2, headers := $3, timeout_milliseconds := $4)', v_http_post::oid::regproc)
     into v_request
    using pg_catalog.rtrim(v_url, '/') || '/functions/v1/worker', coalesce(p_body, '{}'::jsonb),
          pg_catalog.jsonb_build_object('Content-Type', 'application/json', 'apikey', v_key), 150000;
  return v_request;
end;
$$;

comment on function private.invoke_worker(jsonb) is
  'Calls the worker edge function through pg_net (asynchronously; returns the pg_net request id) with the project URL and the secret key from Vault (project_url, worker_secret_key). pg_cron job worker runs it every 30 seconds. 55000 with the steps to take when pg_net or the secrets are missing.';

revoke execute on function private.invoke_worker(jsonb) from public, anon, authenticated, service_role;

-- The schedule is created only where it can work; otherwise a NOTICE says
-- what to run. cron.schedule upserts by name, so running this again (after
-- adding the secrets) is safe.
do $$
declare
  v_secrets integer := 0;
begin
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_net') then
    raise notice 'worker schedule not created: pg_net is not enabled. To run the worker from the database: create extension pg_net; store project_url and worker_secret_key in Vault; then select cron.schedule(''worker'', ''30 seconds'', ''select private.invoke_worker()''); (docs/platform.md "Workers"). The local stack calls the worker itself.';
    return;
  end if;
  if pg_catalog.to_regclass('vault.decrypted_secrets') is not null then
    execute 'select count(*)::integer from vault.decrypted_secrets where name in (''project_url'', ''worker_secret_key'')' into v_secrets;
  end if;
  if v_secrets < 2 then
    raise notice 'worker schedule not created: the Vault secrets project_url and worker_secret_key are missing. Create them (select vault.create_secret(''https://<project-ref>.supabase.co'', ''project_url''); select vault.create_secret(''sb_secret_...'', ''worker_secret_key'');), then select cron.schedule(''worker'', ''30 seconds'', ''select private.invoke_worker()''); (docs/platform.md "Workers").';
    return;
  end if;
  perform cron.schedule('worker', '30 seconds', 'select private.invoke_worker()');
end;
$$;
