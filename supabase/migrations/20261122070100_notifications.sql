-- Notifications: per-user messages over in-app, push, email, SMS and WhatsApp,
-- with priority, scheduled send, delivery status and retries.
--
-- Seed 004 "Notifications System": `notifications` (multi-channel WhatsApp,
-- SMS, push, email; priority-based delivery; status tracking; retry logic).
-- Mapping and choices: docs/integrations.md.
--
-- Delivery is a small queue on the table itself, claimed the way the
-- platform queue claims jobs: FOR UPDATE SKIP LOCKED, a lease (visibility
-- timeout) so a crashed sender's claims come back, exponential backoff, failed
-- after the last attempt. Users read their own and mark them read.

-- The one-column rules are domains rather than table CHECKs: PostgreSQL
-- rebuilds and plans every table CHECK at the start of each statement that
-- writes the table (every insert, claim, result and mark-read), while a
-- domain's constraints are cached per session and run only for the columns a
-- statement assigns (see the log tables' domains in 20261122040000_logs.sql).
-- Same refusals, same SQLSTATE (23514).
create domain private.notification_channel as text check (value in ('in_app', 'push', 'email', 'sms', 'whatsapp'));

comment on domain private.notification_channel is 'A notification channel: in_app, push, email, sms or whatsapp (23514 otherwise).';

create domain private.notification_title as text check (char_length(value) <= 200);

comment on domain private.notification_title is 'A notification title of at most 200 characters (23514 otherwise).';

create domain private.notification_body as text check (char_length(value) between 1 and 4000);

comment on domain private.notification_body is 'A notification body of 1 to 4000 characters (23514 otherwise).';

create domain private.notification_data as jsonb check (jsonb_typeof(value) = 'object' and pg_column_size(value) <= 16384);

comment on domain private.notification_data is 'A notification''s data: a JSON object of at most 16 KiB (23514 otherwise).';

create domain private.notification_priority as smallint check (value between 1 and 10);

comment on domain private.notification_priority is 'A notification priority, 1 (lowest) to 10 (highest) (23514 otherwise).';

create domain private.notification_status as text check (value in ('pending', 'sending', 'sent', 'failed', 'cancelled'));

comment on domain private.notification_status is 'A notification''s delivery status: pending, sending, sent, failed or cancelled (23514 otherwise).';

create domain private.notification_max_attempts as integer check (value between 1 and 20);

comment on domain private.notification_max_attempts is 'How many times a notification may be tried, 1 to 20 (23514 otherwise).';

create table if not exists public.notifications (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  channel private.notification_channel not null,
  title private.notification_title,
  body private.notification_body not null,
  data private.notification_data not null default '{}'::jsonb,
  priority private.notification_priority not null default 5,
  status private.notification_status not null default 'pending',
  attempts integer not null default 0,
  max_attempts private.notification_max_attempts not null default 5,
  -- The dispatch index orders by next_attempt_at: an infinite one would sort
  -- ahead of (or behind) every other user's notifications forever.
  next_attempt_at private.finite_timestamptz not null default now(),
  last_error text,
  sent_at private.finite_timestamptz,
  read_at private.finite_timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table public.notifications is
  'A message to one user over one channel (seed 004 notifications). In-app ones are sent on creation; the others wait in status pending for a sender (claim_notifications), with retries and backoff. Users read their own and mark them read.';
comment on column public.notifications.priority is '1 (lowest) to 10 (highest); higher is claimed first.';
comment on column public.notifications.status is 'pending (waiting or scheduled) -> sending (claimed, leased until next_attempt_at) -> sent | pending (retry) | failed; cancelled by the service role.';
comment on column public.notifications.next_attempt_at is 'When pending: not before this time (scheduled send, retry backoff). When sending: the lease expiry, after which another sender may claim it.';

create index if not exists notifications_user_id_created_at_idx on public.notifications (user_id, created_at desc);
create index if not exists notifications_user_id_unread_idx on public.notifications (user_id) where read_at is null;
create index if not exists notifications_dispatch_idx on public.notifications (channel, priority desc, next_attempt_at)
  where status in ('pending', 'sending');

alter table public.notifications enable row level security;

create policy notifications_select on public.notifications
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));

-- Users change nothing directly: read_at is set by mark_notifications_read
-- (to now()), so a user cannot backdate, postdate or un-read through the
-- table endpoint.
revoke all on table public.notifications from anon, authenticated, service_role;
grant select on table public.notifications to authenticated;
grant select, insert, update, delete on table public.notifications to service_role;

create trigger notifications_set_updated_at
  before update of status, attempts, next_attempt_at, last_error, sent_at on public.notifications
  for each row execute function private.set_updated_at();

-- ---------------------------------------------------------------------------
-- RPCs for the backend (service role)
-- ---------------------------------------------------------------------------
create or replace function public.create_notification(
  p_user_id uuid,
  p_channel text,
  p_body text,
  p_title text default null,
  p_data jsonb default '{}'::jsonb,
  p_priority integer default 5,
  p_send_at timestamptz default null,
  p_max_attempts integer default 5
)
returns public.notifications
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_row public.notifications;
begin
  if p_channel is null or p_channel not in ('in_app', 'push', 'email', 'sms', 'whatsapp') then
    raise exception 'invalid p_channel: must be one of in_app, push, email, sms, whatsapp' using errcode = '22023';
  end if;
  if p_body is null or char_length(p_body) not between 1 and 4000 then
    raise exception 'invalid p_body: 1 to 4000 characters' using errcode = '22023';
  end if;
  if char_length(p_title) > 200 then
    raise exception 'invalid p_title: at most 200 characters' using errcode = '22023';
  end if;
  if p_data is null or jsonb_typeof(p_data) <> 'object' or pg_column_size(p_data) > 16384 then
    raise exception 'invalid p_data: a JSON object of at most 16 KiB' using errcode = '22023';
  end if;
  if p_priority is null or p_priority not between 1 and 10 then
    raise exception 'invalid p_priority: 1 to 10' using errcode = '22023';
  end if;
  if p_max_attempts is null or p_max_attempts not between 1 and 20 then
    raise exception 'invalid p_max_attempts: 1 to 20' using errcode = '22023';
  end if;
  if p_user_id is null then
    raise exception 'invalid p_user_id: required' using errcode = '22023';
  end if;
  perform private.platform_require_service_time(p_send_at, 'p_send_at', pg_catalog.now());

  insert into public.notifications (user_id, channel, title, body, data, priority, max_attempts, next_attempt_at,
                                    status, sent_at)
  values (p_user_id, p_channel, p_title, p_body, p_data, p_priority, p_max_attempts,
          coalesce(p_send_at, pg_catalog.now()),
          -- in-app notifications have no external delivery: they are sent once stored
          case when p_channel = 'in_app' then 'sent' else 'pending' end,
          case when p_channel = 'in_app' then pg_catalog.now() end)
  returning * into v_row;
  return v_row;
exception
  when foreign_key_violation then
    raise exception 'no user with id %', p_user_id using errcode = '23503';
end;
$$;

comment on function public.create_notification(uuid, text, text, text, jsonb, integer, timestamptz, integer) is
  'Service role: stores a notification for a user. in_app is sent at once; other channels wait for a sender from p_send_at (default now; finite and within 10 years of now). Errors: 22023 invalid input, 23503 unknown user.';

create or replace function public.claim_notifications(
  p_channel text,
  p_limit integer default 10,
  p_lease_seconds integer default 60,
  p_now timestamptz default now()
)
returns setof public.notifications
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if p_channel is null or p_channel not in ('push', 'email', 'sms', 'whatsapp') then
    raise exception 'invalid p_channel: must be one of push, email, sms, whatsapp' using errcode = '22023';
  end if;
  if p_limit is null or p_limit not between 1 and 1000 then
    raise exception 'invalid p_limit: 1 to 1000' using errcode = '22023';
  end if;
  if p_lease_seconds is null or p_lease_seconds not between 1 and 3600 then
    raise exception 'invalid p_lease_seconds: 1 to 3600' using errcode = '22023';
  end if;
  perform private.platform_require_clock(p_now);

  -- Due pending ones and expired leases, highest priority first; rows another
  -- sender holds are skipped, so each is handed to one claimer. A lease that
  -- expired on the last attempt fails the notification instead.
  return query
  with due as (
    select n.id
      from public.notifications as n
     where n.channel = p_channel
       and n.status in ('pending', 'sending')
       and n.next_attempt_at <= p_now
     order by n.priority desc, n.next_attempt_at
     limit p_limit
       for update skip locked
  ), claimed as (
    update public.notifications as n
       set status = case when n.status = 'sending' and n.attempts >= n.max_attempts then 'failed' else 'sending' end,
           attempts = case when n.status = 'sending' and n.attempts >= n.max_attempts then n.attempts else n.attempts + 1 end,
           last_error = case when n.status = 'sending' and n.attempts >= n.max_attempts
                             then 'lease expired on the last attempt' else n.last_error end,
           next_attempt_at = p_now + pg_catalog.make_interval(secs => p_lease_seconds)
      from due
     where n.id = due.id
    returning n.*
  )
  select * from claimed as c where c.status = 'sending' order by c.priority desc, c.created_at;
end;
$$;

comment on function public.claim_notifications(text, integer, integer, timestamptz) is
  'Service role: hands up to p_limit due notifications of a channel to the calling sender, leased for p_lease_seconds (status sending, attempts + 1). Concurrent claimers never get the same one. Errors: 22023 invalid input.';

create or replace function public.record_notification_result(
  p_notification_id uuid,
  p_success boolean,
  p_error text default null,
  p_retryable boolean default true,
  p_now timestamptz default now()
)
returns public.notifications
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_row public.notifications;
begin
  if p_success is null then
    raise exception 'invalid p_success: required' using errcode = '22023';
  end if;
  perform private.platform_require_clock(p_now);
  select * into v_row from public.notifications as n where n.id = p_notification_id for update;
  if v_row.id is null then
    raise exception 'notification % not found', p_notification_id using errcode = 'PT404';
  end if;
  if v_row.status <> 'sending' then
    raise exception 'notification % is %, not sending', p_notification_id, v_row.status using errcode = 'PT409';
  end if;

  update public.notifications as n
     set status = case
                    when p_success then 'sent'
                    when not coalesce(p_retryable, true) or n.attempts >= n.max_attempts then 'failed'
                    else 'pending'
                  end,
         sent_at = case when p_success then p_now else n.sent_at end,
         last_error = case when p_success then n.last_error else left(coalesce(p_error, 'unknown error'), 1000) end,
         next_attempt_at = case
                             when p_success then n.next_attempt_at
                             else p_now + private.retry_backoff(n.attempts, interval '30 seconds', interval '1 hour')
                           end
   where n.id = p_notification_id
  returning * into v_row;
  return v_row;
end;
$$;

comment on function public.record_notification_result(uuid, boolean, text, boolean, timestamptz) is
  'Service role: the outcome of a send. Success -> sent. Failure -> pending again after 30 s * 2^(attempts-1) (at most 1 h), or failed after the last attempt or when not retryable. Errors: PT404 not found, PT409 not being sent.';

-- ---------------------------------------------------------------------------
-- RPC for users
-- ---------------------------------------------------------------------------
-- Security definer: users hold no UPDATE on the table; this is the one
-- change they may make, to their own rows only.
create or replace function private.mark_notifications_read(p_notification_ids uuid[])
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_count integer;
begin
  if pg_catalog.cardinality(p_notification_ids) > 1000 then
    raise exception 'invalid p_notification_ids: at most 1000 ids' using errcode = '22023';
  end if;
  update public.notifications as n
     set read_at = pg_catalog.now()
   where n.user_id = v_uid
     and n.read_at is null
     and (p_notification_ids is null or n.id = any (p_notification_ids));
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

comment on function private.mark_notifications_read(uuid[]) is
  'mark_notifications_read for the signed-in caller: sets read_at = now() on their own unread notifications.';

create or replace function public.mark_notifications_read(p_notification_ids uuid[] default null)
returns integer
language sql
volatile
security invoker
set search_path = ''
as $$
  select private.mark_notifications_read(p_notification_ids);
$$;

comment on function public.mark_notifications_read(uuid[]) is
  'Marks the caller''s notifications read (read_at = now()): those listed (at most 1000), or all when the list is null. Others'' ids are ignored. Returns how many changed. The only change users make to notifications: they hold no UPDATE on the table.';

revoke execute on function public.create_notification(uuid, text, text, text, jsonb, integer, timestamptz, integer) from public, anon, authenticated, service_role;
revoke execute on function public.claim_notifications(text, integer, integer, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.record_notification_result(uuid, boolean, text, boolean, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function private.mark_notifications_read(uuid[]) from public, anon, authenticated, service_role;
revoke execute on function public.mark_notifications_read(uuid[]) from public, anon, authenticated, service_role;
grant execute on function public.create_notification(uuid, text, text, text, jsonb, integer, timestamptz, integer) to service_role;
grant execute on function public.claim_notifications(text, integer, integer, timestamptz) to service_role;
grant execute on function public.record_notification_result(uuid, boolean, text, boolean, timestamptz) to service_role;
grant execute on function private.mark_notifications_read(uuid[]) to authenticated;
grant execute on function public.mark_notifications_read(uuid[]) to authenticated;
grant execute on function private.retry_backoff(integer, interval, interval) to service_role;
