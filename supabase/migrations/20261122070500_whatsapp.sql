-- WhatsApp: sessions and the outbound message queue.
--
-- Seed 004 "WhatsApp Integration": `whatsapp_sessions` (session lifecycle,
-- activity tracking), `whatsapp_message_queue` (priority, retry with
-- exponential backoff), `enqueue_whatsapp_message(p_recipient_phone,
-- p_message_type, p_message_payload, p_priority)`,
-- `update_whatsapp_session_activity(p_phone_number, p_increment_message_count)`.
-- Mapping and choices: docs/integrations.md.

-- E.164: '+', a country code not starting with 0, 7 to 15 digits in all.
create or replace function private.is_e164(p_phone text)
returns boolean
language sql
immutable
security invoker
set search_path = ''
as $$
  select coalesce(p_phone ~ '^\+[1-9][0-9]{6,14}$', false);
$$;

comment on function private.is_e164(text) is 'True for an E.164 phone number such as +250788123456.';

revoke execute on function private.is_e164(text) from public, anon, authenticated, service_role;
grant execute on function private.is_e164(text) to service_role;

-- ---------------------------------------------------------------------------
-- Sessions
-- ---------------------------------------------------------------------------
create table if not exists public.whatsapp_sessions (
  phone_number text primary key,
  user_id uuid references auth.users (id) on delete set null,
  status text not null default 'active',
  message_count bigint not null default 0,
  context jsonb not null default '{}'::jsonb,
  started_at timestamptz not null default now(),
  last_activity_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '24 hours',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint whatsapp_sessions_phone_check check (phone_number ~ '^\+[1-9][0-9]{6,14}$'),
  constraint whatsapp_sessions_status_check check (status in ('active', 'closed')),
  constraint whatsapp_sessions_message_count_check check (message_count >= 0),
  constraint whatsapp_sessions_context_check check (jsonb_typeof(context) = 'object' and pg_column_size(context) <= 65536),
  constraint whatsapp_sessions_times_finite check (isfinite(started_at) and isfinite(last_activity_at) and isfinite(expires_at))
);

comment on table public.whatsapp_sessions is
  'One conversation session per WhatsApp number (seed 004 whatsapp_sessions): activity, message count, the conversation context, and the 24-hour customer-service window WhatsApp allows free-form replies in (expires_at). Written by the webhook handler (service role); a linked user reads their own.';
comment on column public.whatsapp_sessions.expires_at is 'End of the 24-hour window since the last activity; after it, a new activity starts a new session (started_at, message_count reset).';
comment on column public.whatsapp_sessions.user_id is 'The account the number is linked to, if any.';

create index if not exists whatsapp_sessions_user_id_idx on public.whatsapp_sessions (user_id);

alter table public.whatsapp_sessions enable row level security;

create policy whatsapp_sessions_select on public.whatsapp_sessions
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));

revoke all on table public.whatsapp_sessions from anon, authenticated, service_role;
grant select on table public.whatsapp_sessions to authenticated;
grant select, insert, update, delete on table public.whatsapp_sessions to service_role;

create trigger whatsapp_sessions_set_updated_at
  before update of user_id, status, context on public.whatsapp_sessions
  for each row execute function private.set_updated_at();

create or replace function public.update_whatsapp_session_activity(
  p_phone_number text,
  p_increment_message_count boolean default true,
  p_now timestamptz default now()
)
returns public.whatsapp_sessions
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_row public.whatsapp_sessions;
begin
  if not private.is_e164(p_phone_number) then
    raise exception 'invalid p_phone_number: must be an E.164 number such as +250788123456' using errcode = '22023';
  end if;
  perform private.platform_require_clock(p_now);
  -- One statement: concurrent webhook deliveries for a number serialise on
  -- the row and every increment counts.
  insert into public.whatsapp_sessions as s (phone_number, message_count, started_at, last_activity_at, expires_at, created_at, updated_at)
  values (p_phone_number, case when coalesce(p_increment_message_count, true) then 1 else 0 end,
          p_now, p_now, p_now + interval '24 hours', p_now, p_now)
  on conflict (phone_number) do update
    set started_at = case when s.status = 'closed' or s.expires_at <= p_now then p_now else s.started_at end,
        message_count = case when s.status = 'closed' or s.expires_at <= p_now then 0 else s.message_count end
                        + case when coalesce(p_increment_message_count, true) then 1 else 0 end,
        status = 'active',
        last_activity_at = greatest(s.last_activity_at, p_now),
        expires_at = greatest(s.expires_at, p_now + interval '24 hours')
  returning * into v_row;
  return v_row;
end;
$$;

comment on function public.update_whatsapp_session_activity(text, boolean, timestamptz) is
  'Seed 004. Records activity on a WhatsApp number (the webhook handler, service role): creates the session, or extends its 24-hour window; counts a message unless p_increment_message_count is false. A closed or expired session starts over. Errors: 22023 not an E.164 number, or a clock private.platform_require_clock refuses.';

revoke execute on function public.update_whatsapp_session_activity(text, boolean, timestamptz) from public, anon, authenticated, service_role;
grant execute on function public.update_whatsapp_session_activity(text, boolean, timestamptz) to service_role;
