-- Chat: a cheaper create_message (issue 3's throughput aim).
--
-- Measured on the benchmark data (100k conversations, 1M messages), one call
-- wrote 11-12 WAL records and spent its CPU in layers rather than in SQL:
--   * four nested plpgsql/sql functions each with `set search_path` (require_user,
--     check_message_fields, require_own_conversation, uuid_v7 -- the last a
--     `language sql` function with SET, so never inlined and planned on every call);
--   * a non-HOT update of the conversation (updated_at is the recency order, so
--     it is in an index and every new message moves the row in it) that inserted
--     into three indexes: the primary key and both recency indexes.
-- This migration flattens create_message into one function with the same checks,
-- messages, SQLSTATEs and order, and serves both list_conversations variants from
-- one recency index, so a message writes one index entry fewer on conversations.
-- The triggers stay as they are: they keep counters exact for every insert path
-- (direct table inserts, INSERT ... ON CONFLICT DO NOTHING), not only this RPC.

-- ---------------------------------------------------------------------------
-- One recency index instead of two. is_archived is a key column (after the
-- order columns), so `not is_archived` is checked inside the index scan: the
-- default list skips archived entries without visiting their rows, and the
-- list with archived ones uses the same index without the condition.
-- ---------------------------------------------------------------------------
create index if not exists conversations_user_recency_idx
  on public.conversations (user_id, updated_at desc, id desc, is_archived);
drop index if exists public.conversations_user_recent_idx;
drop index if exists public.conversations_user_active_recent_idx;

comment on index public.conversations_user_recency_idx is
  'list_conversations: a user''s conversations by recency (keyset (updated_at, id)), archived ones filtered inside the index.';

-- ---------------------------------------------------------------------------
-- create_message, flattened: no nested functions with their own search_path,
-- the v7 id computed inline (private.uuid_v7() stays the column default for
-- direct inserts). Checks, messages and SQLSTATEs are those of
-- private.check_message_fields and private.require_own_conversation, in the
-- same order.
-- ---------------------------------------------------------------------------
create or replace function public.create_message(
  p_conversation_id uuid,
  p_content text default null,
  p_role text default 'user',
  p_metadata jsonb default null,
  p_status text default 'success',
  p_tool_calls jsonb default null,
  p_tool_call_id text default null,
  p_tool_name text default null,
  p_parts jsonb default null,
  p_attachments jsonb default null,
  p_model_used text default null,
  p_input_tokens integer default null,
  p_output_tokens integer default null,
  p_cost numeric default null,
  p_id uuid default null
)
returns public.messages
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_owner uuid;
  v_parts jsonb;
  v_content text;
  v_row public.messages;
begin
  if v_uid is null then
    raise exception 'you must be signed in' using errcode = '42501';
  end if;
  if p_role is null then
    raise exception 'invalid role: must be one of user, assistant, system, tool' using errcode = '22023';
  end if;
  if p_status is null then
    raise exception 'invalid status: must be one of pending, success, error, aborted' using errcode = '22023';
  end if;
  if p_role not in ('user', 'assistant', 'system', 'tool') then
    raise exception 'invalid role: must be one of user, assistant, system, tool'
      using errcode = '22023', detail = format('p_role = %L', left(p_role, 100));
  end if;
  if p_status not in ('pending', 'success', 'error', 'aborted') then
    raise exception 'invalid status: must be one of pending, success, error, aborted'
      using errcode = '22023', detail = format('p_status = %L', left(p_status, 100));
  end if;
  -- The rarely given arguments are checked only when given (the common call
  -- passes content and role).
  if char_length(p_content) > 1000000 then
    raise exception 'invalid content: at most 1000000 characters' using errcode = '22023';
  end if;
  if p_parts is not null then
    if jsonb_typeof(p_parts) <> 'array'
       or exists (select 1 from jsonb_array_elements(p_parts) as e(part)
                   where jsonb_typeof(e.part) <> 'object' or jsonb_typeof(e.part -> 'type') is distinct from 'string') then
      raise exception 'invalid parts: must be a JSON array of objects that each have a string "type"' using errcode = '22023';
    end if;
    if pg_catalog.pg_column_size(p_parts) > 2097152 then
      raise exception 'invalid parts: at most 2 MiB' using errcode = '22023';
    end if;
  end if;
  if p_attachments is not null and (jsonb_typeof(p_attachments) <> 'array' or jsonb_array_length(p_attachments) > 100) then
    raise exception 'invalid attachments: must be a JSON array of at most 100 items' using errcode = '22023';
  end if;
  if p_tool_calls is not null and (jsonb_typeof(p_tool_calls) <> 'array' or jsonb_array_length(p_tool_calls) > 128) then
    raise exception 'invalid tool calls: must be a JSON array of at most 128 items' using errcode = '22023';
  end if;
  if p_tool_call_id is not null and char_length(p_tool_call_id) not between 1 and 200 then
    raise exception 'invalid tool_call_id: must be 1 to 200 characters' using errcode = '22023';
  end if;
  if p_tool_name is not null and char_length(p_tool_name) not between 1 and 200 then
    raise exception 'invalid tool_name: must be 1 to 200 characters' using errcode = '22023';
  end if;
  if p_model_used is not null and char_length(p_model_used) not between 1 and 100 then
    raise exception 'invalid model_used: must be 1 to 100 characters' using errcode = '22023';
  end if;
  if p_input_tokens < 0 or p_output_tokens < 0 or p_cost < 0 then
    raise exception 'invalid usage: tokens and cost must not be negative' using errcode = '22023';
  end if;
  if p_metadata is not null and (jsonb_typeof(p_metadata) <> 'object' or pg_catalog.pg_column_size(p_metadata) > 16384) then
    raise exception 'invalid metadata: must be a JSON object of at most 16 KiB' using errcode = '22023';
  end if;
  if p_role = 'tool' and p_tool_call_id is null then
    raise exception 'invalid tool message: p_tool_call_id is required when the role is tool' using errcode = '22023';
  end if;

  -- Both shapes are always stored: seed 000 clients read content, AI SDK
  -- clients read parts.
  if p_parts is null then
    v_parts := case when p_content <> '' then jsonb_build_array(jsonb_build_object('type', 'text', 'text', p_content))
                    else '[]'::jsonb end;
  else
    v_parts := p_parts;
  end if;
  if p_content is null then
    v_content := coalesce(
      (select string_agg(e.part ->> 'text', E'\n') from jsonb_array_elements(v_parts) as e(part)
        where e.part ->> 'type' = 'text'),
      '');
  else
    v_content := p_content;
  end if;
  if v_content = '' and v_parts = '[]'::jsonb and coalesce(jsonb_array_length(p_tool_calls), 0) = 0 then
    raise exception 'invalid message: content or parts is required' using errcode = '22023';
  end if;

  -- Under the caller's RLS: a conversation they cannot see is "not found" (no
  -- hint that it exists); one they see but do not own is 42501.
  select c.user_id into v_owner from public.conversations as c where c.id = p_conversation_id;
  if not found then
    raise exception 'conversation not found' using errcode = 'PT404', detail = format('id = %s', p_conversation_id);
  end if;
  if v_owner <> v_uid then
    raise exception 'only the owner can change this conversation' using errcode = '42501';
  end if;

  -- No exception block here (it would cost a subtransaction on the hottest
  -- path): a duplicate p_id surfaces as the primary key's own 23505. The id
  -- is private.uuid_v7() written out, which as a function call is planned anew
  -- on every call (a `language sql` function with SET is never inlined).
  insert into public.messages (id, conversation_id, role, content, parts, attachments, tool_calls, tool_call_id,
                               tool_name, status, model_used, input_tokens, output_tokens, cost, metadata)
  values (coalesce(p_id,
            pg_catalog.encode(
              pg_catalog.set_bit(pg_catalog.set_bit(
                pg_catalog.overlay(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()),
                  pg_catalog.substr(pg_catalog.int8send(pg_catalog.floor(extract(epoch from pg_catalog.clock_timestamp()) * 1000)::bigint), 3),
                  1, 6),
                52, 1), 53, 1),
              'hex')::uuid),
          p_conversation_id, p_role, v_content, v_parts,
          coalesce(p_attachments, '[]'::jsonb), p_tool_calls, p_tool_call_id, p_tool_name, p_status, p_model_used,
          p_input_tokens, p_output_tokens, p_cost, coalesce(p_metadata, '{}'::jsonb))
  returning * into v_row;
  return v_row;
end;
$$;

comment on function public.create_message(uuid, text, text, jsonb, text, jsonb, text, text, jsonb, jsonb, text, integer, integer, numeric, uuid) is
  'Adds a message to the caller''s conversation (seed 000 createMessage, plus seed 002 parts, attachments and model/token/cost annotations). Content or parts is required (the other is derived); a tool message needs p_tool_call_id. Errors: 22023 invalid field, PT404 conversation not visible, 42501 not the owner (or not signed in), 23505 id taken.';
