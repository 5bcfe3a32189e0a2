-- Chat: conversations, messages, votes, versioned documents, suggestions and
-- resumable streams, and the RPCs clients call.
--
-- Seeds: 000 conversations/messages tables and the database service
-- (getConversationById, getUserConversations, createConversation,
-- updateConversation, archiveConversation, deleteConversation,
-- getMessagesByConversationId, createMessage, updateMessage, deleteMessage,
-- realtime on messages); 002 Chat, Message_v2, Vote_v2, Document, Suggestion,
-- Stream. One model carries everything both have; the item-by-item mapping,
-- size limits and who-may-do-what are in docs/chat.md.
--
-- Ownership is denormalized: messages, votes, streams and suggestions carry the
-- owner's user_id, set by a BEFORE INSERT trigger from their parent (never from
-- the client), so every policy is a plain indexed `user_id = (select auth.uid())`.
--
-- conversations.total_input_tokens / total_output_tokens / total_cost are
-- maintained by the usage domain from its usage records. Per-message
-- input_tokens/output_tokens/cost are annotations and never feed them.

-- ---------------------------------------------------------------------------
-- Column domains. A table CHECK is rebuilt and planned at the start of every
-- statement that writes the table (ExecRelCheck, once per query), and every
-- one runs whichever columns the statement sets; a domain's CHECK is compiled
-- once per connection (the type cache) and runs only when a value of that
-- column is written. Every new message also updates its conversation, so
-- the single-column rules of both tables are domains; rules that read two
-- columns stay table CHECKs. A refusal is the same 23514 either way.
-- ---------------------------------------------------------------------------
create domain private.chat_title as text
  check (char_length(value) between 1 and 200 and pg_catalog.btrim(value) <> '');
comment on domain private.chat_title is 'Title of a conversation: 1 to 200 characters, not blank.';
create domain private.conversation_visibility as text check (value in ('private', 'public'));
comment on domain private.conversation_visibility is '''private'' or ''public''.';
create domain private.model_name as text check (char_length(value) between 1 and 100);
comment on domain private.model_name is 'An AI model''s name: 1 to 100 characters.';
create domain private.system_prompt as text check (char_length(value) <= 100000);
comment on domain private.system_prompt is 'A system prompt: at most 100,000 characters.';
-- Bounded on both sides: NaN sorts above every number, so `<= 2` refuses it.
create domain private.temperature as double precision check (value >= 0 and value <= 2);
comment on domain private.temperature is 'Sampling temperature, 0 to 2 (NaN and the infinities refused).';
create domain private.positive_integer as integer check (value > 0);
comment on domain private.positive_integer is 'An integer above 0 (max_tokens, context_length).';
-- numeric keeps NaN, which passes `>= 0`: refused by name.
create domain private.cost_total as numeric(16, 6) check (value >= 0 and value not in ('NaN', 'Infinity', '-Infinity'));
comment on domain private.cost_total is 'A running cost in dollars: finite, 0 or above.';
create domain private.message_cost as numeric(12, 6) check (value >= 0 and value not in ('NaN', 'Infinity', '-Infinity'));
comment on domain private.message_cost is 'A per-message cost annotation in dollars: finite, 0 or above.';
create domain private.metadata_object as jsonb
  check (pg_catalog.jsonb_typeof(value) = 'object' and pg_catalog.pg_column_size(value) <= 16384);
comment on domain private.metadata_object is 'Free-form app data: a JSON object of at most 16 KiB.';
create domain private.last_context as jsonb
  check (pg_catalog.jsonb_typeof(value) = 'object' and pg_catalog.pg_column_size(value) <= 65536);
comment on domain private.last_context is 'The AI SDK''s last usage/context data: a JSON object of at most 64 KiB.';
create domain private.message_role as text check (value in ('user', 'assistant', 'system', 'tool'));
comment on domain private.message_role is 'Who wrote a message: user, assistant, system or tool.';
create domain private.message_status as text check (value in ('pending', 'success', 'error', 'aborted'));
comment on domain private.message_status is 'State of a message: pending, success, error or aborted.';
create domain private.message_content as text check (char_length(value) <= 1000000);
comment on domain private.message_content is 'Plain text of a message: at most 1,000,000 characters.';
create domain private.message_parts as jsonb
  check (pg_catalog.jsonb_typeof(value) = 'array' and pg_catalog.pg_column_size(value) <= 2097152);
comment on domain private.message_parts is 'AI SDK message parts: a JSON array of at most 2 MiB.';
create domain private.message_attachments as jsonb
  check (pg_catalog.jsonb_typeof(value) = 'array' and pg_catalog.jsonb_array_length(value) <= 100
         and pg_catalog.pg_column_size(value) <= 65536);
comment on domain private.message_attachments is 'File attachments of a message: a JSON array of at most 100 items and 64 KiB.';
create domain private.message_tool_calls as jsonb
  check (pg_catalog.jsonb_typeof(value) = 'array' and pg_catalog.jsonb_array_length(value) <= 128
         and pg_catalog.pg_column_size(value) <= 1048576);
comment on domain private.message_tool_calls is 'Tool calls of an assistant message: a JSON array of at most 128 items and 1 MiB.';
create domain private.tool_reference as text check (char_length(value) between 1 and 200);
comment on domain private.tool_reference is 'A tool call id or a tool name: 1 to 200 characters.';

-- ---------------------------------------------------------------------------
-- conversations (seed 000 conversations + seed 002 Chat)
-- ---------------------------------------------------------------------------
create table if not exists public.conversations (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  title private.chat_title not null,
  visibility private.conversation_visibility not null default 'private',
  model_name private.model_name,
  system_prompt private.system_prompt,
  temperature private.temperature,
  max_tokens private.positive_integer,
  context_length private.positive_integer,
  is_archived boolean not null default false,
  message_count private.nonnegative_integer not null default 0,
  total_input_tokens bigint not null default 0,
  total_output_tokens bigint not null default 0,
  total_cost private.cost_total not null default 0,
  last_context private.last_context,
  metadata private.metadata_object not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_message_at timestamptz,
  -- The other rules are the columns' domains. The token totals keep a table
  -- CHECK: pgTAP's is() and results_eq compare them as bigint (usage tests).
  constraint conversations_token_totals_nonnegative check (total_input_tokens >= 0 and total_output_tokens >= 0)
)
-- Every message updates its conversation's row: leave room on the page.
with (fillfactor = 90);

comment on table public.conversations is
  'A chat between a user and AI models (seed 000 conversations, seed 002 Chat). Counters are kept by triggers on messages; token and cost totals by the usage domain. Deleting it deletes its messages, votes, documents and streams.';
comment on column public.conversations.visibility is '''private'' (owner and admins) or ''public'' (its share - title, times, messages - readable by anyone, anon included; every field only by the owner and admins; writable only by the owner).';
comment on column public.conversations.temperature is 'Sampling temperature, 0 to 2.';
comment on column public.conversations.max_tokens is 'Maximum output tokens per response, positive.';
comment on column public.conversations.context_length is 'Context window in tokens, positive.';
comment on column public.conversations.message_count is 'Number of messages, kept exactly by triggers on public.messages.';
comment on column public.conversations.total_input_tokens is 'Input tokens used in this conversation; maintained by the usage domain (record_usage), not by message inserts.';
comment on column public.conversations.total_output_tokens is 'Output tokens used in this conversation; maintained by the usage domain (record_usage), not by message inserts.';
comment on column public.conversations.total_cost is 'Cost in dollars of this conversation; maintained by the usage domain (record_usage), not by message inserts.';
comment on column public.conversations.last_context is 'Last usage/context data of the AI SDK (seed 002 Chat.lastContext), a JSON object of at most 64 KiB.';
comment on column public.conversations.metadata is 'Free-form app data (a JSON object, at most 16 KiB).';
comment on column public.conversations.updated_at is 'Last edit or new message: the recency order of list_conversations.';
comment on column public.conversations.last_message_at is 'created_at of the newest message, kept exactly by triggers (null when there is none).';

-- A user's conversations by recency (list_conversations), with and without
-- archived ones, from one index: every new message moves its conversation in
-- the recency order (updated_at), so each recency index costs an insert per
-- message. is_archived is a key column (after the order columns), so
-- `not is_archived` is checked inside the index scan: the default list skips
-- archived entries without visiting their rows.
create index if not exists conversations_user_recency_idx
  on public.conversations (user_id, updated_at desc, id desc, is_archived);
comment on index public.conversations_user_recency_idx is
  'list_conversations: a user''s conversations by recency (keyset (updated_at, id)), archived ones filtered inside the index.';
-- The public-read policy's column.
create index if not exists conversations_public_idx
  on public.conversations (visibility, updated_at desc) where visibility = 'public';

-- ---------------------------------------------------------------------------
-- messages (seed 000 messages + seed 002 Message_v2)
-- ---------------------------------------------------------------------------
create table if not exists public.messages (
  id uuid primary key default private.uuid_v7(),
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  user_id uuid not null,
  role private.message_role not null,
  content private.message_content not null default '',
  parts private.message_parts not null default '[]'::jsonb,
  attachments private.message_attachments not null default '[]'::jsonb,
  tool_calls private.message_tool_calls,
  tool_call_id private.tool_reference,
  tool_name private.tool_reference,
  status private.message_status not null default 'success',
  model_used private.model_name,
  input_tokens private.nonnegative_integer,
  output_tokens private.nonnegative_integer,
  cost private.message_cost,
  metadata private.metadata_object not null default '{}'::jsonb,
  created_at timestamptz not null default clock_timestamp(),
  updated_at timestamptz not null default now(),
  -- the rules that read two columns; the others are the columns' domains
  constraint messages_tool_call_id_required check (role <> 'tool' or tool_call_id is not null),
  constraint messages_not_empty check (content <> '' or parts <> '[]'::jsonb or jsonb_array_length(coalesce(tool_calls, '[]'::jsonb)) > 0)
);

comment on table public.messages is
  'A message of a conversation (seed 000 messages, seed 002 Message_v2): text content and AI SDK parts, attachments, tool calls, status, and per-message model/token/cost annotations. Inserts and deletes keep conversations.message_count and last_message_at exact.';
comment on column public.messages.user_id is 'The conversation''s owner, copied by trigger from public.conversations on insert (never from the client); what RLS filters on.';
comment on column public.messages.content is 'Plain text of the message; derived from the text parts when only parts are given.';
comment on column public.messages.parts is 'AI SDK message parts: a JSON array of objects with a "type"; a single text part is derived from content when only content is given.';
comment on column public.messages.attachments is 'File attachments (seed 002 Message_v2.attachments), a JSON array of at most 100 items and 64 KiB.';
comment on column public.messages.tool_calls is 'Tool calls requested by an assistant message (seed 000 ToolCall[]), a JSON array of at most 128 items and 1 MiB.';
comment on column public.messages.tool_call_id is 'For role ''tool'': the tool call this message answers (required).';
comment on column public.messages.input_tokens is 'Per-message annotation (seed 002 Message_v2); does not feed conversation totals (the usage domain does).';
comment on column public.messages.cost is 'Per-message cost annotation in dollars; does not feed conversation totals.';
comment on column public.messages.id is 'Time-ordered (private.uuid_v7()) unless the client chooses one (p_id).';
comment on column public.messages.created_at is 'clock_timestamp() rather than now(), so messages written in one transaction keep their order.';

-- A conversation's messages in order (list_messages, delete_messages_after, last_message_at).
create index if not exists messages_conversation_created_idx
  on public.messages (conversation_id, created_at, id);
-- The RLS policies' column.
create index if not exists messages_user_id_idx on public.messages (user_id);

-- ---------------------------------------------------------------------------
-- message_votes (seed 002 Vote_v2)
-- ---------------------------------------------------------------------------
create table if not exists public.message_votes (
  message_id uuid primary key references public.messages (id) on delete cascade,
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  user_id uuid not null,
  is_upvoted boolean not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table public.message_votes is
  'One up or down vote per message, by the conversation''s owner (seed 002 Vote_v2). conversation_id and user_id are copied from the message by trigger.';
comment on column public.message_votes.is_upvoted is 'true for up, false for down.';

create index if not exists message_votes_conversation_idx on public.message_votes (conversation_id);
create index if not exists message_votes_user_id_idx on public.message_votes (user_id);

-- ---------------------------------------------------------------------------
-- documents (seed 002 Document): every save is a new row (id, version_number)
-- ---------------------------------------------------------------------------
create table if not exists public.documents (
  id uuid not null,
  version_number integer not null,
  parent_version integer,
  user_id uuid not null references auth.users (id) on delete cascade,
  conversation_id uuid references public.conversations (id) on delete cascade,
  title text not null,
  content text,
  kind text not null default 'text',
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  primary key (id, version_number),
  -- Deleting a parent version (a conversation cascade can take some versions
  -- of a document that moved between conversations) only forgets the link.
  constraint documents_parent_version_fkey foreign key (id, parent_version)
    references public.documents (id, version_number) on delete set null (parent_version),
  constraint documents_version_positive check (version_number > 0),
  constraint documents_parent_before check (parent_version < version_number),
  constraint documents_title_length check (char_length(title) between 1 and 200 and btrim(title) <> ''),
  constraint documents_content_length check (char_length(content) <= 1000000),
  constraint documents_kind check (kind in ('text', 'code', 'mermaid', 'sheet')),
  constraint documents_metadata_object check (jsonb_typeof(metadata) = 'object' and pg_column_size(metadata) <= 16384)
);

comment on table public.documents is
  'Artifacts with full version history (seed 002 Document): one row per version, numbered 1, 2, 3 ... per document id, each pointing at its parent version. Versions are never edited; revert_document adds a new version equal to an older one.';
comment on column public.documents.id is 'The document, the same for all its versions.';
comment on column public.documents.version_number is 'Sequential version number, from 1, without gaps; assigned by trigger (documents_assign_version), never by the writer.';
comment on column public.documents.parent_version is 'The version this one was made from (seed 002 parent_version_id); null for version 1. Assigned by trigger with version_number.';
comment on column public.documents.kind is '''text'', ''code'', ''mermaid'' or ''sheet'' (seed 002 ''python code'' / ''mermaid code'' are accepted by save_document as code / mermaid).';
comment on column public.documents.metadata is 'Version metadata (update type, line range, agent info; reverted_from on reverts), a JSON object of at most 16 KiB.';

create index if not exists documents_user_created_idx on public.documents (user_id, created_at desc);
create index if not exists documents_conversation_idx on public.documents (conversation_id) where conversation_id is not null;
create index if not exists documents_parent_idx on public.documents (id, parent_version);

-- ---------------------------------------------------------------------------
-- suggestions (seed 002 Suggestion)
-- ---------------------------------------------------------------------------
create table if not exists public.suggestions (
  id uuid primary key default gen_random_uuid(),
  document_id uuid not null,
  document_version integer not null,
  user_id uuid not null,
  original_text text not null,
  suggested_text text not null,
  description text,
  is_resolved boolean not null default false,
  resolved_at timestamptz,
  created_at timestamptz not null default now(),
  constraint suggestions_document_fkey foreign key (document_id, document_version)
    references public.documents (id, version_number) on delete cascade,
  constraint suggestions_original_text_length check (char_length(original_text) between 1 and 20000),
  constraint suggestions_suggested_text_length check (char_length(suggested_text) <= 20000),
  constraint suggestions_description_length check (char_length(description) <= 2000),
  constraint suggestions_resolved_at check ((resolved_at is not null) = is_resolved)
);

comment on table public.suggestions is
  'Inline edit suggestions on one document version (seed 002 Suggestion), resolvable. user_id is the document''s owner, copied by trigger.';

create index if not exists suggestions_document_idx on public.suggestions (document_id, document_version);
create index if not exists suggestions_user_id_idx on public.suggestions (user_id);

-- ---------------------------------------------------------------------------
-- streams (seed 002 Stream): resumable response streams of a conversation
-- ---------------------------------------------------------------------------
create table if not exists public.streams (
  id uuid primary key default gen_random_uuid(),
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  user_id uuid not null,
  created_at timestamptz not null default now()
);

comment on table public.streams is
  'Resumable response streams of a conversation (seed 002 Stream): the ids a client resumes from. user_id is the conversation''s owner, copied by trigger.';

create index if not exists streams_conversation_created_idx on public.streams (conversation_id, created_at);
create index if not exists streams_user_id_idx on public.streams (user_id);

-- ---------------------------------------------------------------------------
-- Ownership copied from the parent row. Security definer: the owner must be
-- read even when the caller cannot see the parent, so that the RLS check
-- `user_id = auth.uid()` that follows fails instead of trusting the client.
-- ---------------------------------------------------------------------------
create or replace function private.set_owner_from_conversation()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  new.user_id := (select c.user_id from public.conversations as c where c.id = new.conversation_id);
  return new;
end;
$$;

comment on function private.set_owner_from_conversation() is
  'Trigger (messages, streams): sets user_id to the owner of the row''s conversation.';

create or replace function private.set_vote_owner_from_message()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  select m.conversation_id, m.user_id into new.conversation_id, new.user_id
    from public.messages as m
   where m.id = new.message_id;
  return new;
end;
$$;

comment on function private.set_vote_owner_from_message() is
  'Trigger (message_votes): sets conversation_id and user_id from the voted message.';

create or replace function private.set_suggestion_owner_from_document()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  new.user_id := (select d.user_id from public.documents as d
                   where d.id = new.document_id and d.version_number = new.document_version);
  return new;
end;
$$;

comment on function private.set_suggestion_owner_from_document() is
  'Trigger (suggestions): sets user_id to the owner of the suggested-on document.';

-- conversation_id is never granted for update; this also stops the service
-- role from moving messages between conversations, which would break counters.
create or replace function private.forbid_message_move()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if new.conversation_id is distinct from old.conversation_id or new.user_id is distinct from old.user_id then
    raise exception 'a message cannot move to another conversation' using errcode = '22023';
  end if;
  return new;
end;
$$;

comment on function private.forbid_message_move() is
  'Trigger (messages): conversation_id and user_id are fixed once a message exists.';

-- A document's versions belong to one owner and are numbered 1, 2, 3 ...
-- without gaps, whoever inserts (save_document, revert_document, a direct
-- table insert, the service role). The writer never chooses the number: it
-- is the latest + 1, under the same per-document lock the RPCs take. Definer,
-- so it sees versions the caller cannot: an id that is someone else's
-- document is "not found", as save_document answers, and can never be taken
-- over by a higher version number.
create or replace function private.documents_assign_version()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_latest integer;
  v_owner uuid;
begin
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('public.documents:' || new.id::text, 0));
  select d.version_number, d.user_id into v_latest, v_owner
    from public.documents as d
   where d.id = new.id
   order by d.version_number desc
   limit 1;
  if v_owner is distinct from new.user_id and v_latest is not null then
    raise exception 'document not found' using errcode = 'PT404', detail = format('id = %s', new.id);
  end if;
  new.version_number := coalesce(v_latest, 0) + 1;
  new.parent_version := v_latest;
  return new;
end;
$$;

comment on function private.documents_assign_version() is
  'Trigger (documents, before insert): version_number = latest + 1 and parent_version = latest under the document''s lock; PT404 when the id is another user''s document.';

-- Resolving is one way and stamped by the server: resolved_at is not the
-- writer's to choose, and a resolved suggestion stays resolved.
create or replace function private.suggestions_stamp_resolved()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if old.is_resolved and not new.is_resolved then
    raise exception 'a resolved suggestion cannot be reopened' using errcode = '22023';
  end if;
  new.resolved_at := case when old.is_resolved then old.resolved_at
                          when new.is_resolved then pg_catalog.now() end;
  return new;
end;
$$;

comment on function private.suggestions_stamp_resolved() is
  'Trigger (suggestions, before update): resolved_at is now() when a suggestion becomes resolved and never changes after; reopening is 22023.';

-- Every row a user adds to a chat table costs one unit of their plan's
-- 'writes' quota (docs/conventions.md "Bounds on input"), whichever way it
-- comes in: an RPC or the table endpoint. Messages count as writes, not as
-- 'chat': the chat endpoint meters model calls (10 a minute on basic), and a
-- turn stores two or more messages per call. The service role is not limited.
-- (private.consume_quota_per_row, the foundation's trigger, on each table below.)

revoke execute on function private.set_owner_from_conversation() from public, anon, authenticated, service_role;
revoke execute on function private.set_vote_owner_from_message() from public, anon, authenticated, service_role;
revoke execute on function private.set_suggestion_owner_from_document() from public, anon, authenticated, service_role;
revoke execute on function private.forbid_message_move() from public, anon, authenticated, service_role;
revoke execute on function private.documents_assign_version() from public, anon, authenticated, service_role;
revoke execute on function private.suggestions_stamp_resolved() from public, anon, authenticated, service_role;

create trigger messages_set_owner
  before insert on public.messages
  for each row execute function private.set_owner_from_conversation();
create trigger messages_forbid_move
  before update of conversation_id, user_id on public.messages
  for each row execute function private.forbid_message_move();
create trigger streams_set_owner
  before insert on public.streams
  for each row execute function private.set_owner_from_conversation();
create trigger message_votes_set_owner
  before insert or update of message_id on public.message_votes
  for each row execute function private.set_vote_owner_from_message();
create trigger suggestions_set_owner
  before insert on public.suggestions
  for each row execute function private.set_suggestion_owner_from_document();
create trigger documents_assign_version
  before insert on public.documents
  for each row execute function private.documents_assign_version();
-- Seed 003: a change to a user's documents invalidates what was cached from them (tag user:<id>).
create trigger documents_invalidate_owner_cache
  after insert or delete on public.documents
  for each row execute function private.invalidate_owner_cache('user_id');
create trigger suggestions_stamp_resolved
  before update of is_resolved, resolved_at on public.suggestions
  for each row execute function private.suggestions_stamp_resolved();

create trigger conversations_write_quota
  before insert on public.conversations
  for each row execute function private.consume_quota_per_row('writes');
create trigger messages_write_quota
  before insert on public.messages
  for each row execute function private.consume_quota_per_row('writes');
create trigger message_votes_write_quota
  before insert on public.message_votes
  for each row execute function private.consume_quota_per_row('writes');
create trigger documents_write_quota
  before insert on public.documents
  for each row execute function private.consume_quota_per_row('writes');
create trigger suggestions_write_quota
  before insert on public.suggestions
  for each row execute function private.consume_quota_per_row('writes');
create trigger streams_write_quota
  before insert on public.streams
  for each row execute function private.consume_quota_per_row('writes');

create trigger conversations_set_updated_at
  before update of title, visibility, model_name, system_prompt, temperature, max_tokens, context_length, last_context, metadata
  on public.conversations
  for each row execute function private.set_updated_at();
create trigger messages_set_updated_at
  before update of content, parts, attachments, tool_calls, tool_call_id, tool_name, status, model_used,
                   input_tokens, output_tokens, cost, metadata
  on public.messages
  for each row execute function private.set_updated_at();
create trigger message_votes_set_updated_at
  before update of is_upvoted on public.message_votes
  for each row execute function private.set_updated_at();

-- ---------------------------------------------------------------------------
-- Counters. Security definer: users have no grant on the counter columns.
-- ---------------------------------------------------------------------------

-- One message: an increment under the conversation's row lock is exact with
-- any number of concurrent writers (READ COMMITTED re-reads the locked row).
create or replace function private.count_inserted_message()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.conversations as c
     set message_count = c.message_count + 1,
         last_message_at = greatest(c.last_message_at, new.created_at),
         updated_at = pg_catalog.now()
   where c.id = new.conversation_id;
  return null;
end;
$$;

comment on function private.count_inserted_message() is
  'Trigger after insert on messages: message_count + 1, last_message_at and updated_at (recency) on the conversation.';

-- Many messages at once (delete_messages_after, cascades). The conversations
-- are locked first, in id order; the recount then runs as a new statement, so
-- its snapshot sees every delete committed before the lock was granted and
-- last_message_at never points at a message a concurrent transaction removed.
create or replace function private.count_deleted_messages()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform 1
     from public.conversations as c
    where c.id in (select o.conversation_id from old_messages as o)
    order by c.id
      for no key update;

  update public.conversations as c
     set message_count = c.message_count - d.n,
         last_message_at = (select max(m.created_at) from public.messages as m where m.conversation_id = c.id)
    from (select o.conversation_id, count(*)::integer as n from old_messages as o group by o.conversation_id) as d
   where c.id = d.conversation_id;
  return null;
end;
$$;

comment on function private.count_deleted_messages() is
  'Statement trigger after delete on messages: subtracts the deleted messages from message_count and recomputes last_message_at, exactly under concurrent deletes.';

revoke execute on function private.count_inserted_message() from public, anon, authenticated, service_role;
revoke execute on function private.count_deleted_messages() from public, anon, authenticated, service_role;

create trigger messages_count_insert
  after insert on public.messages
  for each row execute function private.count_inserted_message();
create trigger messages_count_delete
  after delete on public.messages
  referencing old table as old_messages
  for each statement execute function private.count_deleted_messages();

-- ---------------------------------------------------------------------------
-- RLS helpers
-- ---------------------------------------------------------------------------
-- Security definer so that a policy on messages does not evaluate the
-- conversations policies again for every row.
create or replace function private.conversation_is_public(p_conversation_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.conversations as c
     where c.id = p_conversation_id and c.visibility = 'public'
  );
$$;

comment on function private.conversation_is_public(uuid) is
  'RLS helper: true when the conversation is public (its share is readable by anyone).';

revoke execute on function private.conversation_is_public(uuid) from public, anon, authenticated, service_role;
grant execute on function private.conversation_is_public(uuid) to anon, authenticated;

-- A public conversation is a share: its title, its times and its messages.
-- Who owns it and how it is set up (user_id, model, system prompt,
-- temperature, token and cost totals, last_context, metadata) stay the
-- owner's. anon reads a share through the tables with column grants that
-- leave those out; signed-in users who do not own it read it through
-- get_conversation and list_messages, which hand out these masked rows (the
-- table shows a signed-in user only their own rows: column grants cannot
-- differ between a user's own rows and other people's).
create or replace function private.mask_shared_conversation(p_row public.conversations)
returns public.conversations
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
  v_row public.conversations;
begin
  v_row.id := p_row.id;
  v_row.title := p_row.title;
  v_row.visibility := p_row.visibility;
  v_row.message_count := p_row.message_count;
  v_row.created_at := p_row.created_at;
  v_row.updated_at := p_row.updated_at;
  v_row.last_message_at := p_row.last_message_at;
  return v_row;
end;
$$;

comment on function private.mask_shared_conversation(public.conversations) is
  'The share of a conversation: id, title, visibility, message_count, created_at, updated_at, last_message_at; every other field null.';

create or replace function private.shared_conversation(p_conversation_id uuid)
returns public.conversations
language sql
stable
security definer
set search_path = ''
as $$
  select private.mask_shared_conversation(c)
    from public.conversations as c
   where c.id = p_conversation_id and c.visibility = 'public';
$$;

comment on function private.shared_conversation(uuid) is
  'A public conversation as its share (private.mask_shared_conversation), or null when it is not public.';

create or replace function private.shared_messages(p_conversation_id uuid, p_limit integer, p_before uuid)
returns setof public.messages
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_before_at timestamptz := 'infinity'::timestamptz;
  v_before_id uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid;
begin
  if not private.conversation_is_public(p_conversation_id) then
    return;
  end if;
  if p_before is not null then
    select m.created_at, m.id into v_before_at, v_before_id
      from public.messages as m
     where m.id = p_before and m.conversation_id = p_conversation_id;
    if not found then
      raise exception 'message not found: p_before is not a message of this conversation'
        using errcode = 'PT404', detail = format('p_before = %s', p_before);
    end if;
  end if;
  return query
    select page.id, page.conversation_id, null::uuid, page.role, page.content, page.parts, page.attachments,
           page.tool_calls, page.tool_call_id, page.tool_name, page.status, null::private.model_name,
           null::private.nonnegative_integer, null::private.nonnegative_integer, null::private.message_cost,
           null::private.metadata_object, page.created_at, page.updated_at
      from (select m.* from public.messages as m
             where m.conversation_id = p_conversation_id and (m.created_at, m.id) < (v_before_at, v_before_id)
             order by m.created_at desc, m.id desc
             limit p_limit) as page
     order by page.created_at, page.id;
end;
$$;

comment on function private.shared_messages(uuid, integer, uuid) is
  'list_messages for a reader of a public conversation they do not own: the page of messages with user_id, model_used, tokens, cost and metadata left out (null).';

create or replace function private.message_is_shared(p_message_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.messages as m join public.conversations as c on c.id = m.conversation_id
     where m.id = p_message_id and c.visibility = 'public'
  );
$$;

comment on function private.message_is_shared(uuid) is
  'True when the message belongs to a public conversation (so a non-owner sees it and gets 42501 rather than PT404 when changing it).';

revoke execute on function private.mask_shared_conversation(public.conversations) from public, anon, authenticated, service_role;
revoke execute on function private.shared_conversation(uuid) from public, anon, authenticated, service_role;
revoke execute on function private.shared_messages(uuid, integer, uuid) from public, anon, authenticated, service_role;
revoke execute on function private.message_is_shared(uuid) from public, anon, authenticated, service_role;
grant execute on function private.mask_shared_conversation(public.conversations) to authenticated;
grant execute on function private.shared_conversation(uuid) to authenticated;
grant execute on function private.shared_messages(uuid, integer, uuid) to authenticated;
grant execute on function private.message_is_shared(uuid) to authenticated;

-- ---------------------------------------------------------------------------
-- RLS: one policy per operation and role. The owner does everything with their
-- own rows; admins read everything; anon reads the shared columns of public
-- conversations and their messages; everyone else sees nothing in the tables
-- (signed-in readers of a share use get_conversation and list_messages).
-- ---------------------------------------------------------------------------
alter table public.conversations enable row level security;
alter table public.messages enable row level security;
alter table public.message_votes enable row level security;
alter table public.documents enable row level security;
alter table public.suggestions enable row level security;
alter table public.streams enable row level security;

create policy conversations_select on public.conversations
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));
create policy conversations_select_anon on public.conversations
  for select to anon
  using (visibility = 'public');
create policy conversations_insert on public.conversations
  for insert to authenticated
  with check (user_id = (select auth.uid()));
create policy conversations_update on public.conversations
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
create policy conversations_delete on public.conversations
  for delete to authenticated
  using (user_id = (select auth.uid()));

create policy messages_select on public.messages
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));
create policy messages_select_anon on public.messages
  for select to anon
  using (private.conversation_is_public(conversation_id));
-- user_id was just set from the conversation by messages_set_owner.
create policy messages_insert on public.messages
  for insert to authenticated
  with check (user_id = (select auth.uid()));
create policy messages_update on public.messages
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
create policy messages_delete on public.messages
  for delete to authenticated
  using (user_id = (select auth.uid()));

create policy message_votes_select on public.message_votes
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));
create policy message_votes_insert on public.message_votes
  for insert to authenticated
  with check (user_id = (select auth.uid()));
create policy message_votes_update on public.message_votes
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
create policy message_votes_delete on public.message_votes
  for delete to authenticated
  using (user_id = (select auth.uid()));

create policy documents_select on public.documents
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));
create policy documents_insert on public.documents
  for insert to authenticated
  with check (
    user_id = (select auth.uid())
    and (conversation_id is null
         or exists (select 1 from public.conversations as c
                     where c.id = conversation_id and c.user_id = (select auth.uid())))
  );
create policy documents_delete on public.documents
  for delete to authenticated
  using (user_id = (select auth.uid()));

create policy suggestions_select on public.suggestions
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));
create policy suggestions_insert on public.suggestions
  for insert to authenticated
  with check (user_id = (select auth.uid()));
create policy suggestions_update on public.suggestions
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
create policy suggestions_delete on public.suggestions
  for delete to authenticated
  using (user_id = (select auth.uid()));

create policy streams_select on public.streams
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));
create policy streams_insert on public.streams
  for insert to authenticated
  with check (user_id = (select auth.uid()));
create policy streams_delete on public.streams
  for delete to authenticated
  using (user_id = (select auth.uid()));

-- Grants: explicit, column-level for what users may write, and no wider than
-- what the RPCs let them write. Counters, totals, owners, version numbers and
-- timestamps are written only by triggers and the service role.
revoke all on table public.conversations, public.messages, public.message_votes, public.documents,
  public.suggestions, public.streams from anon, authenticated, service_role;

-- anon: the share's columns only (private.mask_shared_conversation's).
grant select (id, title, visibility, message_count, created_at, updated_at, last_message_at)
  on table public.conversations to anon;
grant select (id, conversation_id, role, content, parts, attachments, tool_calls, tool_call_id, tool_name, status,
              created_at, updated_at)
  on table public.messages to anon;

grant select, delete on table public.conversations to authenticated;
grant insert (id, user_id, title, visibility, model_name, system_prompt, temperature, max_tokens, context_length,
              is_archived, last_context, metadata) on table public.conversations to authenticated;
grant update (title, visibility, model_name, system_prompt, temperature, max_tokens, context_length,
              is_archived, last_context, metadata) on table public.conversations to authenticated;

grant select, delete on table public.messages to authenticated;
grant insert (id, conversation_id, role, content, parts, attachments, tool_calls, tool_call_id, tool_name, status,
              model_used, input_tokens, output_tokens, cost, metadata) on table public.messages to authenticated;
grant update (content, parts, status, model_used, input_tokens, output_tokens, cost, metadata)
  on table public.messages to authenticated;

grant select, delete on table public.message_votes to authenticated;
grant insert (message_id, is_upvoted) on table public.message_votes to authenticated;
grant update (is_upvoted) on table public.message_votes to authenticated;

-- Versions are immutable: no update. Their numbers come from the trigger.
grant select, delete on table public.documents to authenticated;
grant insert (id, user_id, conversation_id, title, content, kind, metadata)
  on table public.documents to authenticated;

grant select, delete on table public.suggestions to authenticated;
grant insert (document_id, document_version, original_text, suggested_text, description)
  on table public.suggestions to authenticated;
grant update (is_resolved) on table public.suggestions to authenticated;

grant select, delete on table public.streams to authenticated;
grant insert (id, conversation_id) on table public.streams to authenticated;

grant select, insert, update, delete on table public.conversations, public.messages, public.message_votes,
  public.documents, public.suggestions, public.streams to service_role;

-- Realtime (seed 000 subscribes to new messages); RLS decides who receives what.
alter publication supabase_realtime add table public.conversations, public.messages;

-- ---------------------------------------------------------------------------
-- Shared checks for the RPCs
-- ---------------------------------------------------------------------------
-- Under the caller's RLS: a conversation they cannot see is "not found" (no
-- hint that it exists); one they can see but do not own (public, or as an
-- admin) is 42501.
create or replace function private.require_own_conversation(p_conversation_id uuid, p_uid uuid)
returns void
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_owner uuid;
begin
  select c.user_id into v_owner from public.conversations as c where c.id = p_conversation_id;
  if not found then
    -- someone else's share is visible to everyone, so it is not "missing"
    if private.conversation_is_public(p_conversation_id) then
      raise exception 'only the owner can change this conversation' using errcode = '42501';
    end if;
    raise exception 'conversation not found' using errcode = 'PT404', detail = format('id = %s', p_conversation_id);
  end if;
  if v_owner <> p_uid then
    raise exception 'only the owner can change this conversation' using errcode = '42501';
  end if;
end;
$$;

comment on function private.require_own_conversation(uuid, uuid) is
  'Raises PT404 when the caller cannot see the conversation and 42501 when they see it but do not own it.';

-- The readers' probe: under the caller's RLS, a conversation they cannot see
-- is "not found". Not used by list_messages, which keeps its probe inline.
create or replace function private.require_visible_conversation(p_conversation_id uuid)
returns void
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  perform 1 from public.conversations as c where c.id = p_conversation_id;
  if not found and not private.conversation_is_public(p_conversation_id) then
    raise exception 'conversation not found' using errcode = 'PT404', detail = format('id = %s', p_conversation_id);
  end if;
end;
$$;

comment on function private.require_visible_conversation(uuid) is
  'Raises PT404 when the caller can neither see the conversation nor read it as a public share (get_votes, list_streams).';

-- As require_own_conversation, for one message: a message the caller cannot
-- see is "not found"; one they see but whose conversation is not theirs is
-- 42501, naming what they tried (p_action: change, delete, vote on).
create or replace function private.require_own_message(p_message_id uuid, p_uid uuid, p_action text)
returns public.messages
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_msg public.messages;
begin
  select m.* into v_msg from public.messages as m where m.id = p_message_id;
  if not found then
    if private.message_is_shared(p_message_id) then
      raise exception 'only the owner of the conversation can % its messages', p_action using errcode = '42501';
    end if;
    raise exception 'message not found' using errcode = 'PT404', detail = format('id = %s', p_message_id);
  end if;
  if v_msg.user_id <> p_uid then
    raise exception 'only the owner of the conversation can % its messages', p_action using errcode = '42501';
  end if;
  return v_msg;
end;
$$;

comment on function private.require_own_message(uuid, uuid, text) is
  'The message, for update_message, delete_message, delete_messages_after and vote_message: PT404 when the caller cannot see it, 42501 when they see it but do not own its conversation.';

create or replace function private.check_conversation_settings(
  p_title text, p_visibility text, p_model_name text, p_system_prompt text, p_temperature double precision,
  p_max_tokens integer, p_context_length integer, p_metadata jsonb, p_last_context jsonb
)
returns void
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  if p_title is not null and char_length(btrim(p_title)) not between 1 and 200 then
    raise exception 'invalid title: must be 1 to 200 characters'
      using errcode = '22023', detail = format('length after trimming = %s', char_length(btrim(p_title)));
  end if;
  if p_visibility is not null and p_visibility not in ('private', 'public') then
    raise exception 'invalid visibility: must be private or public'
      using errcode = '22023', detail = format('p_visibility = %L', left(p_visibility, 100));
  end if;
  if char_length(p_model_name) > 100 then
    raise exception 'invalid model name: at most 100 characters' using errcode = '22023';
  end if;
  if char_length(p_system_prompt) > 100000 then
    raise exception 'invalid system prompt: at most 100000 characters' using errcode = '22023';
  end if;
  perform private.require_finite(p_temperature::numeric, 'p_temperature');
  if p_temperature < 0 or p_temperature > 2 then
    raise exception 'invalid temperature: must be between 0 and 2'
      using errcode = '22023', detail = format('p_temperature = %s', p_temperature);
  end if;
  if p_max_tokens <= 0 then
    raise exception 'invalid max_tokens: must be a positive integer'
      using errcode = '22023', detail = format('p_max_tokens = %s', p_max_tokens);
  end if;
  if p_context_length <= 0 then
    raise exception 'invalid context_length: must be a positive integer'
      using errcode = '22023', detail = format('p_context_length = %s', p_context_length);
  end if;
  if p_metadata is not null and (jsonb_typeof(p_metadata) <> 'object' or pg_catalog.pg_column_size(p_metadata) > 16384) then
    raise exception 'invalid metadata: must be a JSON object of at most 16 KiB' using errcode = '22023';
  end if;
  if p_last_context is not null and (jsonb_typeof(p_last_context) <> 'object' or pg_catalog.pg_column_size(p_last_context) > 65536) then
    raise exception 'invalid last context: must be a JSON object of at most 64 KiB' using errcode = '22023';
  end if;
end;
$$;

comment on function private.check_conversation_settings(text, text, text, text, double precision, integer, integer, jsonb, jsonb) is
  'Validates conversation fields (nulls are skipped); raises 22023 naming the first bad one.';

create or replace function private.check_message_fields(
  p_role text, p_status text, p_content text, p_parts jsonb, p_attachments jsonb, p_tool_calls jsonb,
  p_tool_call_id text, p_tool_name text, p_model_used text, p_input_tokens integer, p_output_tokens integer,
  p_cost numeric, p_metadata jsonb
)
returns void
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  if p_role is not null and p_role not in ('user', 'assistant', 'system', 'tool') then
    raise exception 'invalid role: must be one of user, assistant, system, tool'
      using errcode = '22023', detail = format('p_role = %L', left(p_role, 100));
  end if;
  if p_status is not null and p_status not in ('pending', 'success', 'error', 'aborted') then
    raise exception 'invalid status: must be one of pending, success, error, aborted'
      using errcode = '22023', detail = format('p_status = %L', left(p_status, 100));
  end if;
  if char_length(p_content) > 1000000 then
    raise exception 'invalid content: at most 1000000 characters' using errcode = '22023';
  end if;
  if p_parts is not null then
    -- nested: the condition with the subquery is run (an executor start)
    -- only when parts are given
    if jsonb_typeof(p_parts) <> 'array'
       or exists (select 1 from jsonb_array_elements(p_parts) as e(part)
                   where jsonb_typeof(e.part) <> 'object' or jsonb_typeof(e.part -> 'type') is distinct from 'string') then
      raise exception 'invalid parts: must be a JSON array of objects that each have a string "type"' using errcode = '22023';
    end if;
    if pg_catalog.pg_column_size(p_parts) > 2097152 then
      raise exception 'invalid parts: at most 2 MiB' using errcode = '22023';
    end if;
  end if;
  if p_attachments is not null and (jsonb_typeof(p_attachments) <> 'array' or jsonb_array_length(p_attachments) > 100
                                    or pg_catalog.pg_column_size(p_attachments) > 65536) then
    raise exception 'invalid attachments: must be a JSON array of at most 100 items and 64 KiB' using errcode = '22023';
  end if;
  if p_tool_calls is not null and (jsonb_typeof(p_tool_calls) <> 'array' or jsonb_array_length(p_tool_calls) > 128
                                   or pg_catalog.pg_column_size(p_tool_calls) > 1048576) then
    raise exception 'invalid tool calls: must be a JSON array of at most 128 items and 1 MiB' using errcode = '22023';
  end if;
  if char_length(p_tool_call_id) not between 1 and 200 then
    raise exception 'invalid tool_call_id: must be 1 to 200 characters' using errcode = '22023';
  end if;
  if char_length(p_tool_name) not between 1 and 200 then
    raise exception 'invalid tool_name: must be 1 to 200 characters' using errcode = '22023';
  end if;
  if char_length(p_model_used) not between 1 and 100 then
    raise exception 'invalid model_used: must be 1 to 100 characters' using errcode = '22023';
  end if;
  if p_input_tokens < 0 or p_output_tokens < 0 or p_cost < 0 then
    raise exception 'invalid usage: tokens and cost must not be negative' using errcode = '22023';
  end if;
  -- private.require_finite's test and message, inline on this hot path
  -- (NaN passes the test above)
  if p_cost in ('NaN', 'Infinity', '-Infinity') then
    raise exception 'invalid p_cost: must be a finite number' using errcode = '22023';
  end if;
  if p_metadata is not null and (jsonb_typeof(p_metadata) <> 'object' or pg_catalog.pg_column_size(p_metadata) > 16384) then
    raise exception 'invalid metadata: must be a JSON object of at most 16 KiB' using errcode = '22023';
  end if;
end;
$$;

comment on function private.check_message_fields(text, text, text, jsonb, jsonb, jsonb, text, text, text, integer, integer, numeric, jsonb) is
  'Validates message fields (nulls are skipped; no NaN or infinite cost); raises 22023 naming the first bad one.';

revoke execute on function private.require_own_conversation(uuid, uuid) from public, anon, authenticated, service_role;
revoke execute on function private.require_visible_conversation(uuid) from public, anon, authenticated, service_role;
revoke execute on function private.require_own_message(uuid, uuid, text) from public, anon, authenticated, service_role;
revoke execute on function private.check_conversation_settings(text, text, text, text, double precision, integer, integer, jsonb, jsonb) from public, anon, authenticated, service_role;
revoke execute on function private.check_message_fields(text, text, text, jsonb, jsonb, jsonb, text, text, text, integer, integer, numeric, jsonb) from public, anon, authenticated, service_role;
grant execute on function private.require_own_conversation(uuid, uuid) to authenticated;
grant execute on function private.require_visible_conversation(uuid) to authenticated;
grant execute on function private.require_own_message(uuid, uuid, text) to authenticated;
grant execute on function private.check_conversation_settings(text, text, text, text, double precision, integer, integer, jsonb, jsonb) to authenticated;
grant execute on function private.check_message_fields(text, text, text, jsonb, jsonb, jsonb, text, text, text, integer, integer, numeric, jsonb) to authenticated;

-- ---------------------------------------------------------------------------
-- Conversation RPCs (seed 000 database service)
-- ---------------------------------------------------------------------------
create or replace function public.create_conversation(
  p_title text,
  p_model_name text default null,
  p_system_prompt text default null,
  p_temperature double precision default null,
  p_max_tokens integer default null,
  p_context_length integer default null,
  p_metadata jsonb default null,
  p_visibility text default 'private',
  p_id uuid default null
)
returns public.conversations
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_row public.conversations;
begin
  if p_title is null then
    raise exception 'invalid title: must be 1 to 200 characters' using errcode = '22023';
  end if;
  perform private.check_conversation_settings(p_title, coalesce(p_visibility, 'private'), p_model_name, p_system_prompt,
    p_temperature, p_max_tokens, p_context_length, p_metadata, null);
  begin
    insert into public.conversations (id, user_id, title, visibility, model_name, system_prompt, temperature,
                                      max_tokens, context_length, metadata)
    values (coalesce(p_id, gen_random_uuid()), v_uid, btrim(p_title), coalesce(p_visibility, 'private'),
            nullif(p_model_name, ''), nullif(p_system_prompt, ''), p_temperature, p_max_tokens, p_context_length,
            coalesce(p_metadata, '{}'::jsonb))
    returning * into v_row;
  exception
    when unique_violation then
      raise exception 'a conversation with this id already exists' using errcode = '23505';
  end;
  return v_row;
end;
$$;

comment on function public.create_conversation(text, text, text, double precision, integer, integer, jsonb, text, uuid) is
  'Creates a conversation owned by the caller (seed 000 createConversation; seed 002 saveChat with p_id and p_visibility). Errors: 22023 invalid field, 23505 id taken, 42501 not signed in.';

create or replace function public.get_conversation(p_id uuid)
returns public.conversations
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_row public.conversations;
begin
  select c.* into v_row from public.conversations as c where c.id = p_id;
  if not found then
    v_row := private.shared_conversation(p_id);
    if v_row.id is null then
      raise exception 'conversation not found' using errcode = 'PT404', detail = format('id = %s', p_id);
    end if;
  end if;
  return v_row;
end;
$$;

comment on function public.get_conversation(uuid) is
  'One conversation the caller may read: their own or any as an admin (every field), or someone else''s public one as its share (id, title, visibility, message_count and times; the rest null). Seed 000 getConversationById. PT404 otherwise.';

create or replace function public.list_conversations(
  p_include_archived boolean default false,
  p_limit integer default 20,
  p_offset integer default 0,
  p_before_updated_at timestamptz default null,
  p_before_id uuid default null
)
returns setof public.conversations
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  -- No cursor: start above every row, so one index range serves every page.
  v_at timestamptz := coalesce(p_before_updated_at, 'infinity'::timestamptz);
  v_id uuid := coalesce(p_before_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid);
begin
  if p_limit is null or p_limit not between 1 and 100 then
    raise exception 'invalid limit: must be 1 to 100' using errcode = '22023';
  end if;
  if p_offset is null or p_offset < 0 then
    raise exception 'invalid offset: must not be negative' using errcode = '22023';
  end if;
  if (p_before_updated_at is null) <> (p_before_id is null) then
    raise exception 'invalid cursor: give both p_before_updated_at and p_before_id, or neither' using errcode = '22023';
  end if;
  -- a cursor is a row's updated_at: finite and not in the future
  perform private.require_time_between(p_before_updated_at, 'p_before_updated_at', '-infinity',
                                       pg_catalog.now() + private.user_time_skew());
  -- Two statements rather than `p_include_archived or not is_archived`, so
  -- the planner can use the partial index for the default case.
  if p_include_archived then
    return query
      select c.* from public.conversations as c
       where c.user_id = v_uid and (c.updated_at, c.id) < (v_at, v_id)
       order by c.updated_at desc, c.id desc
       limit p_limit offset p_offset;
  else
    return query
      select c.* from public.conversations as c
       where c.user_id = v_uid and not c.is_archived and (c.updated_at, c.id) < (v_at, v_id)
       order by c.updated_at desc, c.id desc
       limit p_limit offset p_offset;
  end if;
end;
$$;

comment on function public.list_conversations(boolean, integer, integer, timestamptz, uuid) is
  'The caller''s conversations, most recently updated first (seed 000 getUserConversations). Page with p_offset, or — fast at any depth — with the keyset cursor p_before_updated_at + p_before_id taken from the last row of the previous page. p_limit 1 to 100 (default 20).';

create or replace function public.update_conversation(
  p_id uuid,
  p_title text default null,
  p_model_name text default null,
  p_system_prompt text default null,
  p_temperature double precision default null,
  p_max_tokens integer default null,
  p_context_length integer default null,
  p_metadata jsonb default null,
  p_visibility text default null,
  p_last_context jsonb default null
)
returns public.conversations
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_row public.conversations;
begin
  perform private.check_conversation_settings(p_title, p_visibility, p_model_name, p_system_prompt, p_temperature,
    p_max_tokens, p_context_length, p_metadata, p_last_context);
  perform private.require_own_conversation(p_id, v_uid);
  update public.conversations as c
     set title = coalesce(btrim(p_title), c.title),
         model_name = case when p_model_name is null then c.model_name else nullif(p_model_name, '') end,
         system_prompt = case when p_system_prompt is null then c.system_prompt else nullif(p_system_prompt, '') end,
         temperature = coalesce(p_temperature, c.temperature),
         max_tokens = coalesce(p_max_tokens, c.max_tokens),
         context_length = coalesce(p_context_length, c.context_length),
         visibility = coalesce(p_visibility, c.visibility),
         last_context = coalesce(p_last_context, c.last_context),
         metadata = case when p_metadata is null then c.metadata else jsonb_strip_nulls(c.metadata || p_metadata) end
   where c.id = p_id
  returning c.* into v_row;
  return v_row;
exception
  when check_violation then
    raise exception 'invalid metadata: the conversation''s metadata must stay under 16 KiB' using errcode = '22023';
end;
$$;

comment on function public.update_conversation(uuid, text, text, text, double precision, integer, integer, jsonb, text, jsonb) is
  'Changes the caller''s conversation (seed 000 updateConversation). A null argument leaves the field as it is; '''' clears model name or system prompt; p_metadata is merged key by key (a key set to null is removed). Counters and totals are not writable. Errors: 22023, PT404, 42501.';

create or replace function public.archive_conversation(p_id uuid, p_archived boolean default true)
returns public.conversations
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_row public.conversations;
begin
  if p_archived is null then
    raise exception 'invalid p_archived: must be true or false' using errcode = '22023';
  end if;
  perform private.require_own_conversation(p_id, v_uid);
  update public.conversations as c set is_archived = p_archived where c.id = p_id returning c.* into v_row;
  return v_row;
end;
$$;

comment on function public.archive_conversation(uuid, boolean) is
  'Archives (or with p_archived => false unarchives) the caller''s conversation (seed 000 archiveConversation). Errors: PT404, 42501.';

create or replace function public.delete_conversation(p_id uuid)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
begin
  perform private.require_own_conversation(p_id, v_uid);
  delete from public.conversations as c where c.id = p_id;
end;
$$;

comment on function public.delete_conversation(uuid) is
  'Deletes the caller''s conversation and everything under it: messages, votes, documents and their suggestions, streams (seed 000 deleteConversation). Errors: PT404, 42501.';

-- ---------------------------------------------------------------------------
-- Message RPCs
-- ---------------------------------------------------------------------------
-- create_message: one test admits the common message (plain text, a known
-- role and status, nothing else but metadata); any other call takes the
-- detailed checks (private.check_message_fields, shared with update_message),
-- which name the first bad field. The columns' domains hold the same rules for
-- every other writer. The ownership check is the insert's own filter
-- (`where c.user_id = uid`); only a call that inserts nothing asks why. The id
-- is private.uuid_v7()'s expression written out: inline it costs nothing
-- beyond its own evaluation (private.uuid_v7() stays the column default for
-- direct inserts). The counters stay in triggers: they keep them exact for
-- every insert path (direct table inserts, INSERT ... ON CONFLICT DO NOTHING),
-- not only this RPC.
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
  v_parts jsonb;
  v_content text;
  v_row public.messages;
begin
  if v_uid is null then
    raise exception 'you must be signed in' using errcode = '42501';
  end if;
  if p_role in ('user', 'assistant', 'system') and p_status in ('pending', 'success', 'error', 'aborted')
     and p_content <> '' and char_length(p_content) <= 1000000
     and p_parts is null and p_attachments is null and p_tool_calls is null and p_tool_call_id is null
     and p_tool_name is null and p_model_used is null and p_input_tokens is null and p_output_tokens is null
     and p_cost is null
     and (p_metadata is null or (jsonb_typeof(p_metadata) = 'object' and pg_catalog.pg_column_size(p_metadata) <= 16384)) then
    v_content := p_content;
    v_parts := jsonb_build_array(jsonb_build_object('type', 'text', 'text', p_content));
  else
    if p_role is null then
      raise exception 'invalid role: must be one of user, assistant, system, tool' using errcode = '22023';
    end if;
    if p_status is null then
      raise exception 'invalid status: must be one of pending, success, error, aborted' using errcode = '22023';
    end if;
    perform private.check_message_fields(p_role, p_status, p_content, p_parts, p_attachments, p_tool_calls,
      p_tool_call_id, p_tool_name, p_model_used, p_input_tokens, p_output_tokens, p_cost, p_metadata);
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
  end if;

  -- No exception block here (it would cost a subtransaction on the hottest
  -- path): a duplicate p_id surfaces as the primary key's own 23505.
  insert into public.messages (id, conversation_id, role, content, parts, attachments, tool_calls, tool_call_id,
                               tool_name, status, model_used, input_tokens, output_tokens, cost, metadata)
  select coalesce(p_id,
           pg_catalog.encode(
             pg_catalog.set_bit(pg_catalog.set_bit(
               pg_catalog.overlay(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()),
                 pg_catalog.substr(pg_catalog.int8send(pg_catalog.floor(extract(epoch from pg_catalog.clock_timestamp()) * 1000)::bigint), 3),
                 1, 6),
               52, 1), 53, 1),
             'hex')::uuid),
         c.id, p_role, v_content, v_parts, coalesce(p_attachments, '[]'::jsonb), p_tool_calls, p_tool_call_id,
         p_tool_name, p_status, p_model_used, p_input_tokens, p_output_tokens, p_cost, coalesce(p_metadata, '{}'::jsonb)
    from public.conversations as c
   where c.id = p_conversation_id and c.user_id = v_uid
  returning * into v_row;
  if not found then
    -- Under the caller's RLS: a conversation they cannot see is "not found"
    -- (no hint that it exists); one they see but do not own is 42501.
    perform 1 from public.conversations as c where c.id = p_conversation_id;
    if found or private.conversation_is_public(p_conversation_id) then
      raise exception 'only the owner can change this conversation' using errcode = '42501';
    end if;
    raise exception 'conversation not found' using errcode = 'PT404', detail = format('id = %s', p_conversation_id);
  end if;
  return v_row;
end;
$$;

comment on function public.create_message(uuid, text, text, jsonb, text, jsonb, text, text, jsonb, jsonb, text, integer, integer, numeric, uuid) is
  'Adds a message to the caller''s conversation (seed 000 createMessage, plus seed 002 parts, attachments and model/token/cost annotations). Content or parts is required (the other is derived); a tool message needs p_tool_call_id. Errors: 22023 invalid field, PT404 conversation not visible, 42501 not the owner (or not signed in), 23505 id taken.';

create or replace function public.list_messages(
  p_conversation_id uuid,
  p_limit integer default 50,
  p_before uuid default null
)
returns setof public.messages
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_before_at timestamptz := 'infinity'::timestamptz;
  v_before_id uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid;
begin
  if p_limit is null or p_limit not between 1 and 200 then
    raise exception 'invalid limit: must be 1 to 200' using errcode = '22023';
  end if;
  perform 1 from public.conversations as c where c.id = p_conversation_id;
  if not found then
    if private.conversation_is_public(p_conversation_id) then
      return query select * from private.shared_messages(p_conversation_id, p_limit, p_before);
      return;
    end if;
    raise exception 'conversation not found' using errcode = 'PT404', detail = format('id = %s', p_conversation_id);
  end if;
  if p_before is not null then
    select m.created_at, m.id into v_before_at, v_before_id
      from public.messages as m
     where m.id = p_before and m.conversation_id = p_conversation_id;
    if not found then
      raise exception 'message not found: p_before is not a message of this conversation'
        using errcode = 'PT404', detail = format('p_before = %s', p_before);
    end if;
  end if;
  -- The p_limit messages just before the cursor, returned oldest first.
  return query
    select page.* from (
      select m.* from public.messages as m
       where m.conversation_id = p_conversation_id and (m.created_at, m.id) < (v_before_at, v_before_id)
       order by m.created_at desc, m.id desc
       limit p_limit
    ) as page
    order by page.created_at, page.id;
end;
$$;

comment on function public.list_messages(uuid, integer, uuid) is
  'Messages of a conversation the caller may read (their own, any as an admin, or a public one without user_id, model, tokens, cost and metadata), oldest first: the latest p_limit (1 to 200, default 50), or the p_limit just before message p_before (a keyset cursor: fast at any depth). Seed 000 getMessagesByConversationId. Errors: 22023, PT404.';

create or replace function public.update_message(
  p_id uuid,
  p_content text default null,
  p_metadata jsonb default null,
  p_status text default null,
  p_parts jsonb default null,
  p_model_used text default null,
  p_input_tokens integer default null,
  p_output_tokens integer default null,
  p_cost numeric default null
)
returns public.messages
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_row public.messages;
begin
  perform private.check_message_fields(null, p_status, p_content, p_parts, null, null, null, null, p_model_used,
    p_input_tokens, p_output_tokens, p_cost, p_metadata);
  perform private.require_own_message(p_id, v_uid, 'change');
  update public.messages as m
     set content = coalesce(p_content,
                            case when p_parts is null then m.content
                                 else coalesce((select string_agg(e.part ->> 'text', E'\n')
                                                  from jsonb_array_elements(p_parts) as e(part)
                                                 where e.part ->> 'type' = 'text'), '') end),
         -- New content replaces the text parts and keeps the others (tool calls, files).
         parts = coalesce(p_parts,
                          case when p_content is null then m.parts
                               else coalesce((select jsonb_agg(e.part order by e.n)
                                                from jsonb_array_elements(m.parts) with ordinality as e(part, n)
                                               where e.part ->> 'type' is distinct from 'text'), '[]'::jsonb)
                                    || case when p_content <> '' then jsonb_build_array(jsonb_build_object('type', 'text', 'text', p_content))
                                            else '[]'::jsonb end end),
         status = coalesce(p_status, m.status),
         model_used = coalesce(p_model_used, m.model_used),
         input_tokens = coalesce(p_input_tokens, m.input_tokens),
         output_tokens = coalesce(p_output_tokens, m.output_tokens),
         cost = coalesce(p_cost, m.cost),
         metadata = case when p_metadata is null then m.metadata else jsonb_strip_nulls(m.metadata || p_metadata) end
   where m.id = p_id
  returning m.* into v_row;
  return v_row;
exception
  when check_violation then
    raise exception 'invalid message: it would have neither content nor parts, or its metadata would exceed 16 KiB'
      using errcode = '22023';
end;
$$;

comment on function public.update_message(uuid, text, jsonb, text, jsonb, text, integer, integer, numeric) is
  'Changes a message of the caller''s conversation (seed 000 updateMessage: content, metadata; plus status, parts and the model/token/cost annotations, e.g. when a streamed response finishes). A null argument leaves the field as it is; new content replaces the text parts; metadata is merged key by key. Errors: 22023, PT404, 42501.';

create or replace function public.delete_message(p_id uuid)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
begin
  perform private.require_own_message(p_id, v_uid, 'delete');
  delete from public.messages as m where m.id = p_id;
end;
$$;

comment on function public.delete_message(uuid) is
  'Deletes one message of the caller''s conversation (seed 000 deleteMessage); its vote goes with it. Errors: PT404, 42501.';

create or replace function public.delete_messages_after(p_message_id uuid, p_inclusive boolean default false)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_msg public.messages;
  v_deleted integer;
begin
  if p_inclusive is null then
    raise exception 'invalid p_inclusive: must be true or false' using errcode = '22023';
  end if;
  v_msg := private.require_own_message(p_message_id, v_uid, 'delete');
  delete from public.messages as m
   where m.conversation_id = v_msg.conversation_id
     and ((m.created_at, m.id) > (v_msg.created_at, v_msg.id) or (p_inclusive and m.id = v_msg.id));
  get diagnostics v_deleted = row_count;
  return v_deleted;
end;
$$;

comment on function public.delete_messages_after(uuid, boolean) is
  'Edit-and-regenerate (seed 002 deleteMessagesByChatIdAfterTimestamp): deletes the messages after p_message_id in its conversation (and the message itself with p_inclusive), in one statement; returns how many. Errors: PT404, 42501.';

-- ---------------------------------------------------------------------------
-- Votes
-- ---------------------------------------------------------------------------
create or replace function public.vote_message(p_message_id uuid, p_type text)
returns public.message_votes
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_row public.message_votes;
begin
  if p_type is null or p_type not in ('up', 'down') then
    raise exception 'invalid vote type: must be up or down'
      using errcode = '22023', detail = format('p_type = %L', left(p_type, 100));
  end if;
  perform private.require_own_message(p_message_id, v_uid, 'vote on');
  insert into public.message_votes as v (message_id, is_upvoted)
  values (p_message_id, p_type = 'up')
  on conflict (message_id) do update set is_upvoted = excluded.is_upvoted
  returning v.* into v_row;
  return v_row;
end;
$$;

comment on function public.vote_message(uuid, text) is
  'Up- or down-votes a message of the caller''s conversation (seed 002 voteMessage); voting again replaces the vote. Errors: 22023, PT404, 42501.';

create or replace function public.get_votes(p_conversation_id uuid)
returns setof public.message_votes
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  perform private.require_visible_conversation(p_conversation_id);
  return query
    select v.* from public.message_votes as v where v.conversation_id = p_conversation_id order by v.created_at, v.message_id;
end;
$$;

comment on function public.get_votes(uuid) is
  'The votes of a conversation (seed 002 getVotesByChatId): the owner''s, or any as an admin; readers of a public conversation get none. Errors: PT404.';

-- ---------------------------------------------------------------------------
-- Documents and suggestions
-- ---------------------------------------------------------------------------
create or replace function public.save_document(
  p_title text,
  p_content text default null,
  p_kind text default 'text',
  p_id uuid default null,
  p_conversation_id uuid default null,
  p_metadata jsonb default null,
  p_expected_version integer default null
)
returns public.documents
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_id uuid := coalesce(p_id, gen_random_uuid());
  v_kind text := case p_kind when 'python code' then 'code' when 'mermaid code' then 'mermaid' else p_kind end;
  v_latest integer;
  v_row public.documents;
begin
  if p_title is null or char_length(btrim(p_title)) not between 1 and 200 then
    raise exception 'invalid title: must be 1 to 200 characters' using errcode = '22023';
  end if;
  if v_kind is null or v_kind not in ('text', 'code', 'mermaid', 'sheet') then
    raise exception 'invalid kind: must be one of text, code, mermaid, sheet'
      using errcode = '22023', detail = format('p_kind = %L', left(p_kind, 100));
  end if;
  if char_length(p_content) > 1000000 then
    raise exception 'invalid content: at most 1000000 characters' using errcode = '22023';
  end if;
  if p_metadata is not null and (jsonb_typeof(p_metadata) <> 'object' or pg_catalog.pg_column_size(p_metadata) > 16384) then
    raise exception 'invalid metadata: must be a JSON object of at most 16 KiB' using errcode = '22023';
  end if;
  if p_conversation_id is not null then
    perform private.require_own_conversation(p_conversation_id, v_uid);
  end if;

  -- Saves of one document take turns, so version numbers stay sequential.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('public.documents:' || v_id::text, 0));
  select max(d.version_number) into v_latest from public.documents as d where d.id = v_id;
  if v_latest is not null and (select d.user_id from public.documents as d where d.id = v_id and d.version_number = v_latest) <> v_uid then
    raise exception 'only the owner can save a document' using errcode = '42501';
  end if;
  if p_expected_version is not null and p_expected_version is distinct from coalesce(v_latest, 0) then
    raise exception 'stale document: the latest version is %, not %', coalesce(v_latest, 0), p_expected_version
      using errcode = 'PT409', hint = 'Reload the document and apply the change to its latest version.';
  end if;
  -- The version number is the trigger's (latest + 1, the same value under
  -- the same lock); an id that is another user's document is PT404 there.
  insert into public.documents (id, user_id, conversation_id, title, content, kind, metadata)
  values (v_id, v_uid,
          coalesce(p_conversation_id,
                   (select d.conversation_id from public.documents as d where d.id = v_id and d.version_number = v_latest)),
          btrim(p_title), p_content, v_kind, coalesce(p_metadata, '{}'::jsonb))
  returning * into v_row;
  return v_row;
end;
$$;

comment on function public.save_document(text, text, text, uuid, uuid, jsonb, integer) is
  'Saves a document as a new version (seed 002 saveDocument): version 1 for a new id, otherwise latest + 1 with the latest as parent. p_expected_version (0 for a new document) turns a concurrent edit into PT409 instead of a silent overwrite. Errors: 22023, PT404, PT409, 42501.';

create or replace function public.get_document(p_id uuid, p_version integer default null)
returns public.documents
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_row public.documents;
begin
  select d.* into v_row
    from public.documents as d
   where d.id = p_id and (p_version is null or d.version_number = p_version)
   order by d.version_number desc
   limit 1;
  if not found then
    raise exception 'document not found' using errcode = 'PT404',
      detail = format('id = %s, version = %s', p_id, coalesce(p_version::text, 'latest'));
  end if;
  return v_row;
end;
$$;

comment on function public.get_document(uuid, integer) is
  'The latest version of a document, or version p_version (seed 002 getDocumentById). Errors: PT404.';

create or replace function public.list_document_versions(p_id uuid)
returns setof public.documents
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  return query select d.* from public.documents as d where d.id = p_id order by d.version_number;
  if not found then
    raise exception 'document not found' using errcode = 'PT404', detail = format('id = %s', p_id);
  end if;
end;
$$;

comment on function public.list_document_versions(uuid) is
  'Every version of a document, oldest first (seed 002 getDocumentsById). Errors: PT404.';

create or replace function public.revert_document(p_id uuid, p_version integer)
returns public.documents
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_old public.documents;
  v_latest integer;
  v_row public.documents;
begin
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('public.documents:' || p_id::text, 0));
  select d.* into v_old from public.documents as d where d.id = p_id and d.version_number = p_version;
  if not found then
    raise exception 'document version not found' using errcode = 'PT404',
      detail = format('id = %s, version = %s', p_id, p_version);
  end if;
  if v_old.user_id <> v_uid then
    raise exception 'only the owner can revert a document' using errcode = '42501';
  end if;
  select max(d.version_number) into v_latest from public.documents as d where d.id = p_id;
  if v_latest = p_version then
    raise exception 'version % is already the latest', p_version using errcode = 'PT409';
  end if;
  insert into public.documents (id, user_id, conversation_id, title, content, kind, metadata)
  values (p_id, v_uid, v_old.conversation_id, v_old.title, v_old.content, v_old.kind,
          v_old.metadata || jsonb_build_object('reverted_from', p_version))
  returning * into v_row;
  return v_row;
end;
$$;

comment on function public.revert_document(uuid, integer) is
  'Reverts a document to an older version by adding a new version equal to it (history is kept; metadata.reverted_from says which). Errors: PT404, PT409 already latest, 42501.';

create or replace function public.create_suggestions(
  p_document_id uuid,
  p_suggestions jsonb,
  p_document_version integer default null
)
returns setof public.suggestions
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_doc public.documents;
begin
  if p_suggestions is null or jsonb_typeof(p_suggestions) <> 'array' or jsonb_array_length(p_suggestions) not between 1 and 100 then
    raise exception 'invalid suggestions: must be a JSON array of 1 to 100 objects' using errcode = '22023';
  end if;
  if exists (
    select 1 from jsonb_array_elements(p_suggestions) as e(s)
     where jsonb_typeof(e.s) <> 'object'
        or jsonb_typeof(e.s -> 'original_text') is distinct from 'string'
        or jsonb_typeof(e.s -> 'suggested_text') is distinct from 'string'
        or char_length(e.s ->> 'original_text') not between 1 and 20000
        or char_length(e.s ->> 'suggested_text') > 20000
        or (e.s ? 'description' and jsonb_typeof(e.s -> 'description') not in ('string', 'null'))
        or char_length(e.s ->> 'description') > 2000
  ) then
    raise exception 'invalid suggestion: each needs original_text (1 to 20000 characters) and suggested_text (at most 20000), description at most 2000'
      using errcode = '22023';
  end if;
  select d.* into v_doc
    from public.documents as d
   where d.id = p_document_id and (p_document_version is null or d.version_number = p_document_version)
   order by d.version_number desc
   limit 1;
  if not found then
    raise exception 'document not found' using errcode = 'PT404',
      detail = format('id = %s, version = %s', p_document_id, coalesce(p_document_version::text, 'latest'));
  end if;
  if v_doc.user_id <> v_uid then
    raise exception 'only the owner can add suggestions to a document' using errcode = '42501';
  end if;
  return query
    insert into public.suggestions (document_id, document_version, original_text, suggested_text, description)
    select v_doc.id, v_doc.version_number, e.s ->> 'original_text', e.s ->> 'suggested_text', e.s ->> 'description'
      from jsonb_array_elements(p_suggestions) with ordinality as e(s, n)
     order by e.n
    returning *;
end;
$$;

comment on function public.create_suggestions(uuid, jsonb, integer) is
  'Adds inline edit suggestions to a document version (default: the latest) of the caller (seed 002 saveSuggestions). p_suggestions: [{original_text, suggested_text, description?}], 1 to 100. Errors: 22023, PT404, 42501.';

create or replace function public.resolve_suggestion(p_id uuid)
returns public.suggestions
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_row public.suggestions;
begin
  select s.* into v_row from public.suggestions as s where s.id = p_id;
  if not found then
    raise exception 'suggestion not found' using errcode = 'PT404', detail = format('id = %s', p_id);
  end if;
  if v_row.user_id <> v_uid then
    raise exception 'only the document''s owner can resolve its suggestions' using errcode = '42501';
  end if;
  if v_row.is_resolved then
    return v_row;
  end if;
  update public.suggestions as s set is_resolved = true  -- resolved_at: the trigger's
   where s.id = p_id
  returning s.* into v_row;
  return v_row;
end;
$$;

comment on function public.resolve_suggestion(uuid) is
  'Marks a suggestion resolved (seed 002 Suggestion.isResolved); resolving it again changes nothing. Errors: PT404, 42501.';

-- ---------------------------------------------------------------------------
-- Streams
-- ---------------------------------------------------------------------------
create or replace function public.create_stream(p_conversation_id uuid, p_id uuid default null)
returns public.streams
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_row public.streams;
begin
  perform private.require_own_conversation(p_conversation_id, v_uid);
  begin
    insert into public.streams (id, conversation_id) values (coalesce(p_id, gen_random_uuid()), p_conversation_id)
    returning * into v_row;
  exception
    when unique_violation then
      raise exception 'a stream with this id already exists' using errcode = '23505';
  end;
  return v_row;
end;
$$;

comment on function public.create_stream(uuid, uuid) is
  'Records a resumable response stream of the caller''s conversation (seed 002 createStreamId); p_id is the stream id the client resumes with. Errors: PT404, 42501, 23505.';

create or replace function public.list_streams(p_conversation_id uuid)
returns setof public.streams
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  perform private.require_visible_conversation(p_conversation_id);
  return query
    select s.* from public.streams as s where s.conversation_id = p_conversation_id order by s.created_at, s.id;
end;
$$;

comment on function public.list_streams(uuid) is
  'The streams of a conversation, oldest first (seed 002 getStreamIdsByChatId): the owner''s, or any as an admin. Errors: PT404.';

-- ---------------------------------------------------------------------------
-- Execute grants: signed-in users only. anon reads public conversations and
-- their messages through the tables (RLS), not through RPCs.
-- ---------------------------------------------------------------------------
do $$
declare
  v_fn text;
begin
  foreach v_fn in array array[
    'public.create_conversation(text, text, text, double precision, integer, integer, jsonb, text, uuid)',
    'public.get_conversation(uuid)',
    'public.list_conversations(boolean, integer, integer, timestamptz, uuid)',
    'public.update_conversation(uuid, text, text, text, double precision, integer, integer, jsonb, text, jsonb)',
    'public.archive_conversation(uuid, boolean)',
    'public.delete_conversation(uuid)',
    'public.create_message(uuid, text, text, jsonb, text, jsonb, text, text, jsonb, jsonb, text, integer, integer, numeric, uuid)',
    'public.list_messages(uuid, integer, uuid)',
    'public.update_message(uuid, text, jsonb, text, jsonb, text, integer, integer, numeric)',
    'public.delete_message(uuid)',
    'public.delete_messages_after(uuid, boolean)',
    'public.vote_message(uuid, text)',
    'public.get_votes(uuid)',
    'public.save_document(text, text, text, uuid, uuid, jsonb, integer)',
    'public.get_document(uuid, integer)',
    'public.list_document_versions(uuid)',
    'public.revert_document(uuid, integer)',
    'public.create_suggestions(uuid, jsonb, integer)',
    'public.resolve_suggestion(uuid)',
    'public.create_stream(uuid, uuid)',
    'public.list_streams(uuid)'
  ] loop
    execute format('revoke execute on function %s from public, anon, authenticated, service_role', v_fn);
    execute format('grant execute on function %s to authenticated', v_fn);
  end loop;
end;
$$;
