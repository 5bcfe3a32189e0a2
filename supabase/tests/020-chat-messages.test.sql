-- Chat, part 2: messages, counters, pagination, votes, streams, RLS for every
-- role, and what deleting a conversation or a user takes with it.
begin;
select plan(89);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');
select tests.create_supabase_user('admin', app_metadata => '{"role":"admin"}');


select tests.authenticate_as('alice');
select tests.remember('private', (public.create_conversation('Alice private')).id);
select tests.remember('public', (public.create_conversation('Alice public', p_visibility => 'public')).id);
select tests.authenticate_as('bob');
select tests.remember('bob', (public.create_conversation('Bob private')).id);
select tests.remember('bob_public', (public.create_conversation('Bob public', p_visibility => 'public')).id);

-- ---------------------------------------------------------------------------
-- create_message: both seeds' shapes
-- ---------------------------------------------------------------------------
select tests.authenticate_as('alice');
select tests.remember('m1', (public.create_message(tests.id('private'), 'Hello, how are you?', 'user')).id);
select results_eq(
  format($$select role::text, content::text, parts::jsonb, attachments::jsonb, status::text, metadata::jsonb, user_id
             from public.messages where id = %L$$, tests.id('m1')),
  format($$values ('user'::text, 'Hello, how are you?'::text, '[{"type":"text","text":"Hello, how are you?"}]'::jsonb, '[]'::jsonb,
                   'success'::text, '{}'::jsonb, %L::uuid)$$, tests.get_supabase_uid('alice')),
  'a seed 000 message (content, role) also gets the AI SDK text part, status success and its owner');
select is(substr(tests.id('m1')::text, 15, 1), '7', 'message ids are UUID version 7 ...');
select ok(tests.id('m1') < private.uuid_v7(), '... and sort by creation time');

select tests.remember('m2', (public.create_message(tests.id('private'), p_role => 'assistant',
  p_parts => '[{"type":"reasoning","text":"thinking"},{"type":"text","text":"I can help"},{"type":"text","text":"with that."}]',
  p_attachments => '[{"url":"https://cdn.example.com/a.png","contentType":"image/png"}]', p_metadata => '{"model":"gpt-4o-mini"}',
  p_tool_calls => '[{"id":"tool_123","name":"search","args":{}}]', p_model_used => 'gpt-4o-mini',
  p_input_tokens => 12, p_output_tokens => 34, p_cost => 0.000123)).id);
select results_eq(
  format($$select content::text, jsonb_array_length(parts), attachments -> 0 ->> 'contentType', tool_calls -> 0 ->> 'id', model_used::text,
                  input_tokens::int, output_tokens::int, cost::numeric
             from public.messages where id = %L$$, tests.id('m2')),
  $$values (E'I can help\nwith that.'::text, 3, 'image/png'::text, 'tool_123'::text, 'gpt-4o-mini'::text, 12, 34, 0.000123::numeric)$$,
  'a seed 002 message (parts) gets its content from the text parts and keeps attachments, tool calls and annotations');

select tests.remember('m3', (public.create_message(tests.id('private'), '{"result":42}', 'tool',
  p_tool_call_id => 'tool_123', p_tool_name => 'search')).id);
select is((select tool_call_id || '/' || tool_name from public.messages where id = tests.id('m3')), 'tool_123/search',
  'a tool message stores its call id and tool name');
select tests.remember('m4', (public.create_message(tests.id('private'), p_role => 'assistant', p_content => '',
  p_tool_calls => '[{"id":"tool_9","name":"calc","args":{"x":1}}]', p_status => 'pending')).id);
select is((select status from public.messages where id = tests.id('m4')), 'pending',
  'an assistant message with only tool calls is accepted, with its status');

select results_eq(
  format($$select message_count::int, last_message_at from public.conversations where id = %L$$, tests.id('private')),
  format($$values (4, %L::timestamptz)$$, (select created_at from public.messages where id = tests.id('m4'))),
  'message_count and last_message_at follow the inserts');
select is((select updated_at from public.conversations where id = tests.id('private')), now(),
  'a new message bumps the conversation''s recency');
select is((select total_input_tokens + total_output_tokens from public.conversations where id = tests.id('private')),
  0::bigint, 'per-message tokens do not feed the conversation totals (the usage domain does)');

-- Bad input
select throws_ok(format($$select public.create_message(%L, 'x', 'robot')$$, tests.id('private')), '22023',
  'invalid role: must be one of user, assistant, system, tool', 'an unknown role is rejected');
select throws_ok(format($$select public.create_message(%L, 'x', 'user', p_status => 'done')$$, tests.id('private')), '22023',
  'invalid status: must be one of pending, success, error, aborted', 'an unknown status is rejected');
select throws_ok(format($$select public.create_message(%L, 'result', 'tool')$$, tests.id('private')), '22023',
  'invalid tool message: p_tool_call_id is required when the role is tool', 'a tool message without its call id is rejected');
select throws_ok(format($$select public.create_message(%L, '', 'user')$$, tests.id('private')), '22023',
  'invalid message: content or parts is required', 'an empty message is rejected');
select throws_ok(format($$select public.create_message(%L, p_parts => '[]')$$, tests.id('private')), '22023',
  'invalid message: content or parts is required', 'empty parts without content are rejected');
select throws_ok(format($$select public.create_message(%L, p_parts => '{"type":"text"}')$$, tests.id('private')), '22023',
  'invalid parts: must be a JSON array of objects that each have a string "type"', 'parts that are not an array are rejected');
select throws_ok(format($$select public.create_message(%L, p_parts => '[{"text":"no type"}]')$$, tests.id('private')), '22023',
  'invalid parts: must be a JSON array of objects that each have a string "type"', 'a part without a type is rejected');
select throws_ok(format($$select public.create_message(%L, repeat('x', 1000001))$$, tests.id('private')), '22023',
  'invalid content: at most 1000000 characters', 'oversized content is rejected');
select throws_ok(format($$select public.create_message(%L, 'x', p_metadata => '"text"')$$, tests.id('private')), '22023',
  'invalid metadata: must be a JSON object of at most 16 KiB', 'metadata that is not an object is rejected');
select throws_ok(format($$select public.create_message(%L, 'x', p_input_tokens => -1)$$, tests.id('private')), '22023',
  'invalid usage: tokens and cost must not be negative', 'negative tokens are rejected');
select throws_ok(format($$select public.create_message(%L, 'x')$$, tests.id('bob')), 'PT404',
  'conversation not found', 'a message into someone else''s private conversation: not found');
select throws_ok(format($$select public.create_message(%L, 'x')$$, tests.id('bob_public')), '42501',
  'only the owner can change this conversation', 'a message into someone else''s public conversation: not allowed');
select throws_ok(format($$select public.create_message(%L, 'dup', p_id => %L)$$, tests.id('private'), tests.id('m1')),
  '23505', null, 'a taken message id is rejected');
select is((select count(*)::int from public.messages), 4, '... and none of the rejected messages was written');
select is((select message_count::int from public.conversations where id = tests.id('private')), 4,
  '... nor counted');

-- The table: the owner comes from the conversation, never from the client.
select throws_ok(format($$insert into public.messages (conversation_id, role, content) values (%L, 'user', 'sneaky')$$,
  tests.id('bob_public')), '42501', null, 'a direct insert into someone else''s conversation fails RLS');
select throws_ok(format($$update public.messages set conversation_id = %L where id = %L$$, tests.id('public'),
  tests.id('m1')), '42501', null, 'a message cannot be moved to another conversation');

-- ---------------------------------------------------------------------------
-- list_messages
-- ---------------------------------------------------------------------------
select results_eq(
  format($$select id from public.list_messages(%L)$$, tests.id('private')),
  $$values (tests.id('m1')), (tests.id('m2')), (tests.id('m3')), (tests.id('m4'))$$,
  'list_messages returns the messages oldest first, in insertion order even within one transaction');
select results_eq(
  format($$select id from public.list_messages(%L, 2)$$, tests.id('private')),
  $$values (tests.id('m3')), (tests.id('m4'))$$,
  'p_limit keeps the latest messages');
select results_eq(
  format($$select id from public.list_messages(%L, 2, p_before => %L)$$, tests.id('private'), tests.id('m3')),
  $$values (tests.id('m1')), (tests.id('m2'))$$,
  'p_before returns the messages just before it');
select throws_ok(format($$select * from public.list_messages(%L, 0)$$, tests.id('private')), '22023',
  'invalid limit: must be 1 to 200', 'limit 0 is rejected');
select throws_ok(format($$select * from public.list_messages(%L, p_before => gen_random_uuid())$$, tests.id('private')), 'PT404',
  'message not found: p_before is not a message of this conversation', 'an unknown cursor is PT404');
select throws_ok(format($$select * from public.list_messages(%L)$$, tests.id('bob')), 'PT404',
  'conversation not found', 'another user''s private messages: not found');

-- Equal timestamps: 7 messages at the same instant, in pages of 3.
select tests.reset_role();
insert into public.messages (conversation_id, role, content, created_at)
select tests.id('public'), 'user', 'same ' || n, '2026-02-02 02:02:02+00' from generate_series(1, 7) as n;
select tests.authenticate_as('alice');
create temporary table pages on commit drop as
select * from tests.page_through(
  format($$select m.id from public.list_messages(%L, 3, %%L) as m$$, tests.id('public')), 3, cursor_at => 'first');
grant all on pages to public;
select is((select count(distinct id)::int from pages), 7, 'paging back through 7 messages with equal timestamps returns each once');
select is((select count(*)::int from pages), 7, '... and no message twice');
select results_eq(
  $$select id from pages order by page desc, pos$$,
  format($$select id from public.messages where conversation_id = %L order by created_at, id$$, tests.id('public')),
  '... in conversation order');
select is((select message_count::int from public.conversations where id = tests.id('public')), 7,
  'direct table inserts are counted too');

-- ---------------------------------------------------------------------------
-- update_message
-- ---------------------------------------------------------------------------
select results_eq(
  format($$select content::text, parts::jsonb from public.update_message(%L, p_content => 'Rewritten')$$, tests.id('m2')),
  $$values ('Rewritten'::text, '[{"type":"reasoning","text":"thinking"},{"type":"text","text":"Rewritten"}]'::jsonb)$$,
  'new content replaces the text parts and keeps the others');
select results_eq(
  format($$select status::text, output_tokens::int, metadata::jsonb from public.update_message(%L, p_status => 'success', p_output_tokens => 99, p_metadata => '{"finish":"stop"}')$$,
         tests.id('m4')),
  $$values ('success'::text, 99, '{"finish":"stop"}'::jsonb)$$,
  'update_message sets status, annotations and merges metadata');
select throws_ok(format($$select public.update_message(%L, p_status => 'finished')$$, tests.id('m4')), '22023',
  'invalid status: must be one of pending, success, error, aborted', 'update_message rejects an unknown status');
select is((select status from public.messages where id = tests.id('m4')), 'success', '... and changes nothing');
select throws_ok($$select public.update_message(gen_random_uuid(), p_content => 'x')$$, 'PT404', 'message not found',
  'updating a missing message is PT404');

-- ---------------------------------------------------------------------------
-- Votes
-- ---------------------------------------------------------------------------
select results_eq(
  format($$select conversation_id, user_id, is_upvoted from public.vote_message(%L, 'up')$$, tests.id('m2')),
  format($$values (%L::uuid, %L::uuid, true)$$, tests.id('private'), tests.get_supabase_uid('alice')),
  'vote_message records an upvote by the owner');
select is((public.vote_message(tests.id('m2'), 'down')).is_upvoted, false, 'voting again replaces the vote');
select public.vote_message(tests.id('m4'), 'up');
select results_eq(
  format($$select message_id, is_upvoted from public.get_votes(%L) order by is_upvoted$$, tests.id('private')),
  format($$values (%L::uuid, false), (%L::uuid, true)$$, tests.id('m2'), tests.id('m4')),
  'get_votes returns one vote per message');
select throws_ok(format($$select public.vote_message(%L, 'meh')$$, tests.id('m2')), '22023',
  'invalid vote type: must be up or down', 'an unknown vote type is rejected');
select throws_ok($$select public.vote_message(gen_random_uuid(), 'up')$$, 'PT404', 'message not found', 'a vote on a missing message is PT404');

-- ---------------------------------------------------------------------------
-- Streams
-- ---------------------------------------------------------------------------
select is((public.create_stream(tests.id('private'), '22222222-2222-4222-8222-222222222222')).id,
  '22222222-2222-4222-8222-222222222222'::uuid, 'create_stream records the client''s stream id');
select public.create_stream(tests.id('private'));
select is((select count(*)::int from public.list_streams(tests.id('private'))), 2, 'list_streams lists them');
select throws_ok(format($$select public.create_stream(%L, '22222222-2222-4222-8222-222222222222')$$, tests.id('private')),
  '23505', 'a stream with this id already exists', 'a taken stream id is rejected');
select throws_ok(format($$select public.create_stream(%L)$$, tests.id('bob')), 'PT404',
  'conversation not found', 'no stream in someone else''s conversation');

-- ---------------------------------------------------------------------------
-- Another user
-- ---------------------------------------------------------------------------
select tests.authenticate_as('bob');
select is_empty(format($$select 1 from public.messages where conversation_id = %L$$, tests.id('private')),
  'another user sees no message of a private conversation');
select throws_ok(format($$select public.update_message(%L, p_content => 'hijack')$$, tests.id('m1')), 'PT404',
  'message not found', 'another user cannot update a private message');
select throws_ok(format($$select public.delete_message(%L)$$, tests.id('m1')), 'PT404',
  'message not found', '... nor delete it');
select throws_ok(format($$select public.vote_message(%L, 'down')$$, tests.id('m1')), 'PT404',
  'message not found', '... nor vote on it');
select throws_ok(format($$select public.get_votes(%L)$$, tests.id('private')), 'PT404',
  'conversation not found', '... nor read its votes');
select throws_ok(format($$select public.list_streams(%L)$$, tests.id('private')), 'PT404',
  'conversation not found', '... nor its streams');
select is((select count(*)::int from public.list_messages(tests.id('public'))), 7,
  'another user reads a public conversation''s messages (its share, through list_messages)');
select is((select count(*)::int from public.messages where conversation_id = tests.id('public')), 0,
  '... not through the table, which would show every column (020-chat-hardening tests the share)');
select throws_ok(format($$select public.vote_message(%L, 'down')$$, (select id from pages limit 1)), '42501',
  'only the owner of the conversation can vote on its messages', 'a vote on another user''s public message is refused');
select throws_ok(format($$select public.update_message(%L, p_content => 'hijack')$$, (select id from pages limit 1)), '42501',
  'only the owner of the conversation can change its messages', 'a public message is changed by no one but its owner');
select throws_ok(format($$select public.delete_messages_after(%L)$$, (select id from pages limit 1)), '42501',
  'only the owner of the conversation can delete its messages', '... nor truncated');
select is_empty(format($$delete from public.messages where conversation_id = %L returning 1$$, tests.id('public')),
  '... nor deleted through the table');
select is_empty(format($$select 1 from public.get_votes(%L)$$, tests.id('public')),
  'votes of a public conversation stay private to its owner');

-- ---------------------------------------------------------------------------
-- Admin
-- ---------------------------------------------------------------------------
select tests.authenticate_as('admin');
select is((select count(*)::int from public.list_messages(tests.id('private'))), 4, 'an admin reads private messages');
select is((select count(*)::int from public.get_votes(tests.id('private'))), 2, 'an admin reads votes');
select is((select count(*)::int from public.list_streams(tests.id('private'))), 2, 'an admin reads streams');
select throws_ok(format($$select public.create_message(%L, 'from admin')$$, tests.id('private')), '42501',
  'only the owner can change this conversation', 'an admin cannot write into someone else''s conversation');
select throws_ok(format($$select public.delete_message(%L)$$, tests.id('m1')), '42501',
  'only the owner of the conversation can delete its messages', 'an admin cannot delete someone else''s message');

-- ---------------------------------------------------------------------------
-- anon
-- ---------------------------------------------------------------------------
select tests.clear_authentication();
select is((select count(*)::int from public.messages), 7, 'anon reads the messages of public conversations only');
select throws_ok($$select 1 from public.message_votes$$, '42501', null, 'anon cannot read votes');
select throws_ok($$select 1 from public.streams$$, '42501', null, 'anon cannot read streams');
select throws_ok(format($$select * from public.list_messages(%L)$$, tests.id('public')), '42501', null,
  'anon cannot call list_messages (public rows are read through the table)');
select throws_ok(format($$insert into public.messages (conversation_id, role, content) values (%L, 'user', 'x')$$,
  tests.id('public')), '42501', null, 'anon cannot write messages');

-- ---------------------------------------------------------------------------
-- service role
-- ---------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select is((select count(*)::int from public.messages where user_id = tests.get_supabase_uid('alice')), 11,
  'the service role reads every message');
select throws_ok(format($$select public.create_message(%L, 'x')$$, tests.id('private')), '42501', null,
  'the service role has no user RPCs');
insert into public.messages (conversation_id, role, content, user_id)
values (tests.id('bob'), 'system', 'You are helpful.', tests.get_supabase_uid('alice'));
select is((select user_id from public.messages where content = 'You are helpful.'), tests.get_supabase_uid('bob'),
  'even the service role cannot give a message an owner other than its conversation''s');

-- ---------------------------------------------------------------------------
-- Deletes keep the counters exact
-- ---------------------------------------------------------------------------
select tests.authenticate_as('alice');
select lives_ok(format($$select public.delete_message(%L)$$, tests.id('m4')), 'the owner deletes the latest message');
select results_eq(
  format($$select message_count::int, last_message_at from public.conversations where id = %L$$, tests.id('private')),
  format($$values (3, %L::timestamptz)$$, (select created_at from public.messages where id = tests.id('m3'))),
  'message_count drops and last_message_at falls back to the previous message');
select is((select count(*)::int from public.message_votes where message_id = tests.id('m4')), 0,
  'the deleted message''s vote went with it');
select is(public.delete_messages_after(tests.id('m1')), 2, 'delete_messages_after deletes what follows');
select results_eq(
  format($$select id from public.list_messages(%L)$$, tests.id('private')),
  $$values (tests.id('m1'))$$, '... and keeps the message itself');
select is(public.delete_messages_after(tests.id('m1'), p_inclusive => true), 1,
  'with p_inclusive it deletes the message too');
select results_eq(
  format($$select message_count::int, last_message_at from public.conversations where id = %L$$, tests.id('private')),
  $$values (0, null::timestamptz)$$, 'an emptied conversation counts 0 and has no last message');

-- ---------------------------------------------------------------------------
-- Cascades: a conversation takes everything under it; a user takes everything
-- ---------------------------------------------------------------------------
select tests.remember('m5', (public.create_message(tests.id('private'), 'again')).id);
select public.vote_message(tests.id('m5'), 'up');
select public.save_document('Notes', 'text', p_conversation_id => tests.id('private'));
select public.delete_conversation(tests.id('private'));
select tests.reset_role();
select is((select count(*)::int from public.messages where conversation_id = tests.id('private')), 0,
  'deleting a conversation deletes its messages');
select is((select count(*)::int from public.message_votes where conversation_id = tests.id('private')), 0,
  '... its votes');
select is((select count(*)::int from public.streams where conversation_id = tests.id('private')), 0,
  '... its streams');
select is((select count(*)::int from public.documents where conversation_id = tests.id('private')), 0,
  '... and its documents');

delete from auth.users where id = tests.get_supabase_uid('bob');
select is((select count(*)::int from public.conversations where id in (tests.id('bob'), tests.id('bob_public'))), 0,
  'deleting a user deletes their conversations');
select is((select count(*)::int from public.messages where content = 'You are helpful.'), 0, '... and the messages in them');

select * from finish();
rollback;
