-- The outbound WhatsApp message queue (seed 004 whatsapp_message_queue,
-- enqueue_whatsapp_message), built on the platform queue
-- (20261122050100_queues.sql): a queue named 'whatsapp' in private.jobs, so
-- claims (for update skip locked, leases), retries (exponential backoff with
-- jitter), dead letters and their redrive, retention, metrics and dedupe are
-- the platform's. This file adds the WhatsApp shape: E.164 recipients, message
-- types, a typed view and thin worker RPCs. Mapping: docs/integrations.md.

select public.create_queue(
  'whatsapp',
  'Outbound WhatsApp messages (docs/integrations.md).',
  p_max_attempts => 5,
  p_lease_seconds => 60,
  p_backoff_base_seconds => 30,
  p_backoff_max_seconds => 3600,
  p_retention => interval '30 days'
);

insert into private.job_types (job_type, queue_name, description, user_may_enqueue, max_attempts)
values ('whatsapp/message', 'whatsapp', 'Seed 004: one outbound WhatsApp message (enqueue_whatsapp_message). Server-side only.', false, 5)
on conflict (job_type) do nothing;

-- The queue's messages in the seed's terms. Service role only, like the
-- platform's job_queue view it mirrors.
create or replace view public.whatsapp_message_queue
with (security_invoker = true)
as
select j.id,
       j.payload ->> 'recipient_phone' as recipient_phone,
       j.payload ->> 'message_type' as message_type,
       j.payload -> 'message_payload' as message_payload,
       j.priority,
       j.status,
       j.run_at as scheduled_at,
       j.attempts,
       j.max_attempts,
       j.dedupe_key,
       j.locked_by,
       j.locked_until,
       j.last_error,
       j.errors,
       j.result ->> 'provider_message_id' as provider_message_id,
       j.created_at,
       j.started_at,
       j.finished_at
  from private.jobs as j
 where j.queue_name = 'whatsapp';

comment on view public.whatsapp_message_queue is
  'Outbound WhatsApp messages (seed 004 whatsapp_message_queue): rows of the platform queue ''whatsapp''. status queued (scheduled_at: send time or next retry) -> active (leased to a sender) -> completed | queued again | dead (after the last attempt). Service role.';

revoke all on public.whatsapp_message_queue from public, anon, authenticated, service_role;
grant select on public.whatsapp_message_queue to service_role;

-- A platform job row in the view's shape.
create or replace function private.whatsapp_message_from_job(p_job public.job_queue)
returns public.whatsapp_message_queue
language sql
immutable
security invoker
set search_path = ''
as $$
  select p_job.id, p_job.payload ->> 'recipient_phone', p_job.payload ->> 'message_type', p_job.payload -> 'message_payload',
         p_job.priority, p_job.status, p_job.run_at, p_job.attempts, p_job.max_attempts, p_job.dedupe_key, p_job.locked_by,
         p_job.locked_until, p_job.last_error, p_job.errors, p_job.result ->> 'provider_message_id', p_job.created_at,
         p_job.started_at, p_job.finished_at;
$$;

comment on function private.whatsapp_message_from_job(public.job_queue) is 'Maps a job of the whatsapp queue to a whatsapp_message_queue row.';

create or replace function public.enqueue_whatsapp_message(
  p_recipient_phone text,
  p_message_type text,
  p_message_payload jsonb,
  p_priority integer default 5,
  p_send_at timestamptz default null,
  p_dedupe_key text default null,
  p_now timestamptz default now()
)
returns public.whatsapp_message_queue
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if not private.is_e164(p_recipient_phone) then
    raise exception 'invalid p_recipient_phone: must be an E.164 number such as +250788123456' using errcode = '22023';
  end if;
  if p_message_type is null
     or p_message_type not in ('text', 'template', 'image', 'document', 'audio', 'video', 'location', 'interactive') then
    raise exception 'invalid p_message_type: must be one of text, template, image, document, audio, video, location, interactive'
      using errcode = '22023';
  end if;
  if p_message_payload is null or jsonb_typeof(p_message_payload) <> 'object' then
    raise exception 'invalid p_message_payload: must be a JSON object' using errcode = '22023';
  end if;
  if p_message_type = 'text' and (jsonb_typeof(p_message_payload -> 'text') is distinct from 'string'
                                  or char_length(p_message_payload ->> 'text') not between 1 and 4096) then
    raise exception 'invalid p_message_payload: a text message needs "text", 1 to 4096 characters' using errcode = '22023';
  end if;
  if p_message_type = 'template' and (jsonb_typeof(p_message_payload -> 'name') is distinct from 'string'
                                      or p_message_payload ->> 'name' = '') then
    raise exception 'invalid p_message_payload: a template message needs "name"' using errcode = '22023';
  end if;
  if p_priority is null or p_priority not between 1 and 10 then
    raise exception 'invalid p_priority: 1 to 10 (higher is sent first)' using errcode = '22023';
  end if;

  return private.whatsapp_message_from_job(private.insert_job(
    'whatsapp', 'whatsapp/message', null,
    pg_catalog.jsonb_build_object('recipient_phone', p_recipient_phone, 'message_type', p_message_type,
                                  'message_payload', p_message_payload),
    p_send_at, p_priority, null, p_dedupe_key, null, 65536, p_now));
end;
$$;

comment on function public.enqueue_whatsapp_message(text, text, jsonb, integer, timestamptz, text, timestamptz) is
  'Seed 004. Queues an outbound WhatsApp message (service role): E.164 recipient, message type, payload (text needs "text", template needs "name"), priority 1-10 (higher first, default 5), optional send time (finite, within 10 years of p_now) and dedupe key (the same key returns the message already queued). Errors: 22023 invalid input.';

create or replace function public.claim_whatsapp_messages(
  p_worker_id text,
  p_limit integer default 10,
  p_now timestamptz default now()
)
returns setof public.whatsapp_message_queue
language sql
volatile
security invoker
set search_path = ''
as $$
  select (private.whatsapp_message_from_job(c)).*
    from public.claim_jobs('whatsapp', p_worker_id, p_limit, null, p_now) as c;
$$;

comment on function public.claim_whatsapp_messages(text, integer, timestamptz) is
  'A sender takes up to p_limit due messages, highest priority first, each leased to it for 60 s (platform claim_jobs: skip locked, one sender per message, expired leases retried or dead-lettered). Service role.';

create or replace function public.complete_whatsapp_message(
  p_message_id bigint,
  p_worker_id text,
  p_provider_message_id text default null,
  p_now timestamptz default now()
)
returns public.whatsapp_message_queue
language sql
volatile
security invoker
set search_path = ''
as $$
  select private.whatsapp_message_from_job(public.complete_job(
    p_message_id, p_worker_id,
    case when p_provider_message_id is null then null
         else pg_catalog.jsonb_build_object('provider_message_id', p_provider_message_id) end,
    p_now));
$$;

comment on function public.complete_whatsapp_message(bigint, text, text, timestamptz) is
  'The sender delivered the message to WhatsApp (optionally with its wamid). Errors: PT409 not leased to this worker, PT404 unknown. Service role.';

create or replace function public.fail_whatsapp_message(
  p_message_id bigint,
  p_worker_id text,
  p_error text,
  p_retryable boolean default true,
  p_now timestamptz default now()
)
returns public.whatsapp_message_queue
language sql
volatile
security invoker
set search_path = ''
as $$
  select private.whatsapp_message_from_job(public.fail_job(p_message_id, p_worker_id, p_error, p_retryable, null, p_now));
$$;

comment on function public.fail_whatsapp_message(bigint, text, text, boolean, timestamptz) is
  'A send failed: retried after 30 s * 2^(attempt-1) with jitter (at most 1 h), or dead after the 5th attempt or when not retryable (requeue_dead_jobs(''whatsapp'') redrives). Errors: 22023 no error text, PT409, PT404. Service role.';

revoke execute on function private.whatsapp_message_from_job(public.job_queue) from public, anon, authenticated, service_role;
revoke execute on function public.enqueue_whatsapp_message(text, text, jsonb, integer, timestamptz, text, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.claim_whatsapp_messages(text, integer, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.complete_whatsapp_message(bigint, text, text, timestamptz) from public, anon, authenticated, service_role;
revoke execute on function public.fail_whatsapp_message(bigint, text, text, boolean, timestamptz) from public, anon, authenticated, service_role;
grant execute on function private.whatsapp_message_from_job(public.job_queue) to service_role;
grant execute on function public.enqueue_whatsapp_message(text, text, jsonb, integer, timestamptz, text, timestamptz) to service_role;
grant execute on function public.claim_whatsapp_messages(text, integer, timestamptz) to service_role;
grant execute on function public.complete_whatsapp_message(bigint, text, text, timestamptz) to service_role;
grant execute on function public.fail_whatsapp_message(bigint, text, text, boolean, timestamptz) to service_role;
