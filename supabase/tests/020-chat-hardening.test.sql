-- Chat, part 4: the table grants are no wider than the RPCs, a public
-- conversation shows only its share, no NaN or infinite number is stored,
-- every argument is bounded, and every insert path costs write quota. Each
-- as the role that tried it.
begin;
select plan(49);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');
select tests.create_supabase_user('spammer');

select tests.authenticate_as('alice');
select tests.remember('shared', (public.create_conversation('Shared plan', p_model_name => 'gpt-4o-mini',
  p_system_prompt => 'Be brief.', p_metadata => '{"team":"x"}', p_visibility => 'public')).id);
select tests.remember('msg', (public.create_message(tests.id('shared'), 'Hello', p_cost => 0.25,
  p_metadata => '{"trace":"t1"}')).id);
select tests.remember('doc', (public.save_document('Plan', 'draft')).id);
select public.create_suggestions(tests.id('doc'), '[{"original_text":"draft","suggested_text":"final"}]');
select tests.remember('sug', (select id from public.suggestions where document_id = tests.id('doc')));

-- ---------------------------------------------------------------------------
-- Documents: nobody chooses a version number or takes over someone's id
-- ---------------------------------------------------------------------------
select tests.authenticate_as('bob');
select throws_ok(format($$insert into public.documents (id, version_number, user_id, title) values (%L, 99, %L, 'Hijack')$$,
    tests.id('doc'), tests.get_supabase_uid('bob')),
  '42501', null, 'a user cannot choose a document''s version number through the table');
select throws_ok(format($$insert into public.documents (id, parent_version, user_id, title) values (%L, 1, %L, 'Hijack')$$,
    tests.id('doc'), tests.get_supabase_uid('bob')),
  '42501', null, '... nor its parent version');
select throws_ok(format($$insert into public.documents (id, user_id, title) values (%L, %L, 'Hijack')$$,
    tests.id('doc'), tests.get_supabase_uid('bob')),
  'PT404', 'document not found', 'another user''s document id cannot be taken over through the table');

select tests.authenticate_as('alice');
select results_eq(
  format($$select version_number, parent_version from public.save_document('Plan', 'second', p_id => %L, p_expected_version => 1)$$,
         tests.id('doc')),
  $$values (2, 1)$$, 'the owner still saves the document, as the next version');
select results_eq(
  format($$insert into public.documents (id, user_id, title) values (%L, %L, 'Direct') returning version_number, parent_version$$,
         tests.id('doc'), tests.get_supabase_uid('alice')),
  $$values (3, 2)$$, 'a direct insert by the owner is numbered by the trigger like a save');

-- ---------------------------------------------------------------------------
-- Suggestions and messages: only what the RPCs write
-- ---------------------------------------------------------------------------
select throws_ok(format($$insert into public.suggestions (id, document_id, document_version, original_text, suggested_text)
                          values (gen_random_uuid(), %L, 1, 'a', 'b')$$, tests.id('doc')),
  '42501', null, 'a suggestion''s id is not the writer''s to choose');
select throws_ok(format($$update public.suggestions set resolved_at = '2000-01-01' where id = %L$$, tests.id('sug')),
  '42501', null, 'resolved_at is not writable: the server stamps it');
select is((select resolved_at from public.resolve_suggestion(tests.id('sug'))), now(), 'resolve_suggestion stamps now()');
select throws_ok(format($$update public.suggestions set is_resolved = false where id = %L$$, tests.id('sug')),
  '22023', 'a resolved suggestion cannot be reopened', 'a resolved suggestion stays resolved, as through the RPCs');
select throws_ok(format($$update public.messages set attachments = '[{"url":"x"}]' where id = %L$$, tests.id('msg')),
  '42501', null, 'attachments cannot be changed through the table (update_message does not change them)');

-- ---------------------------------------------------------------------------
-- Numbers: no NaN or infinity
-- ---------------------------------------------------------------------------
select throws_ok(format($$select public.create_message(%L, 'x', p_cost => 'NaN')$$, tests.id('shared')),
  '22023', 'invalid p_cost: must be a finite number', 'create_message refuses a NaN cost');
select throws_ok(format($$select public.create_message(%L, 'x', p_cost => 'Infinity')$$, tests.id('shared')),
  '22023', 'invalid p_cost: must be a finite number', '... and an infinite one');
select throws_ok(format($$select public.update_message(%L, p_cost => 'NaN')$$, tests.id('msg')),
  '22023', 'invalid p_cost: must be a finite number', 'update_message refuses a NaN cost');
select is((select cost::numeric from public.messages where id = tests.id('msg')), 0.25::numeric, '... and the stored cost is unchanged');
select throws_ok(format($$insert into public.messages (conversation_id, role, content, cost) values (%L, 'user', 'x', 'NaN')$$,
    tests.id('shared')),
  '23514', null, 'the table refuses a NaN cost too');
select throws_ok($$select public.create_conversation('t', p_temperature => 'NaN')$$,
  '22023', 'invalid p_temperature: must be a finite number', 'create_conversation refuses a NaN temperature');
select throws_ok(format($$select public.update_conversation(%L, p_temperature => '-Infinity')$$, tests.id('shared')),
  '22023', 'invalid p_temperature: must be a finite number', 'update_conversation refuses an infinite temperature');
select tests.authenticate_as_service_role();
select throws_ok(format($$update public.conversations set total_cost = 'NaN' where id = %L$$, tests.id('shared')),
  '23514', null, 'not even the service role stores a NaN total cost');

-- ---------------------------------------------------------------------------
-- Sizes and times
-- ---------------------------------------------------------------------------
select tests.authenticate_as('alice');
select throws_ok(format($$select public.create_message(%L, 'x', p_attachments => jsonb_build_array(jsonb_build_object('url', repeat(md5(random()::text), 3000))))$$,
    tests.id('shared')),
  '22023', 'invalid attachments: must be a JSON array of at most 100 items and 64 KiB', 'attachments are capped at 64 KiB');
select throws_ok(format($$select public.create_message(%L, p_role => 'assistant', p_tool_calls => jsonb_build_array(jsonb_build_object('args', repeat(md5(random()::text), 40000))))$$,
    tests.id('shared')),
  '22023', 'invalid tool calls: must be a JSON array of at most 128 items and 1 MiB', 'tool calls are capped at 1 MiB');
select throws_ok($$select * from public.list_conversations(p_before_updated_at => 'infinity', p_before_id => gen_random_uuid())$$,
  '22023', null, 'an infinite cursor is refused');
select throws_ok($$select * from public.list_conversations(p_before_updated_at => '-infinity', p_before_id => gen_random_uuid())$$,
  '22023', null, '... at either end');
select throws_ok($$select * from public.list_conversations(p_before_updated_at => now() + interval '1 day', p_before_id => gen_random_uuid())$$,
  '22023', null, '... and so is one in the future');

-- ---------------------------------------------------------------------------
-- A public conversation shows its share, not its owner
-- ---------------------------------------------------------------------------
select tests.authenticate_as('bob');
select results_eq(
  format($$select title::text, user_id, model_name::text, system_prompt::text, metadata::jsonb, total_cost::numeric, last_context::jsonb,
                    message_count::int
             from public.get_conversation(%L)$$, tests.id('shared')),
  $$values ('Shared plan'::text, null::uuid, null::text, null::text, null::jsonb, null::numeric, null::jsonb, 1)$$,
  'another signed-in user reads a public conversation''s share: title and counts, not its owner or setup');
select results_eq(
  format($$select content::text, user_id, cost::numeric, metadata::jsonb, model_used::text from public.list_messages(%L)$$, tests.id('shared')),
  $$values ('Hello'::text, null::uuid, null::numeric, null::jsonb, null::text)$$,
  '... and its messages without owner, cost or metadata');
select is_empty(format($$select 1 from public.conversations where id = %L$$, tests.id('shared')),
  'the table shows a signed-in user only their own conversations');
select is_empty(format($$select 1 from public.messages where conversation_id = %L$$, tests.id('shared')),
  '... and only their own messages');

select tests.clear_authentication();
select results_eq($$select id, title::text from public.conversations$$,
  format($$values (%L::uuid, 'Shared plan'::text)$$, tests.id('shared')), 'anon reads a public conversation''s title');
select throws_ok($$select user_id from public.conversations$$, '42501', null, 'anon cannot read its owner');
select throws_ok($$select system_prompt, metadata, last_context, total_cost from public.conversations$$, '42501', null,
  '... nor its setup, metadata or totals');
select throws_ok($$select * from public.conversations$$, '42501', null, '... nor every column at once');
select results_eq($$select content::text from public.messages$$, $$values ('Hello'::text)$$, 'anon reads the messages of a share');
select throws_ok($$select user_id from public.messages$$, '42501', null, 'anon cannot read a message''s owner');
select throws_ok($$select cost, metadata, model_used from public.messages$$, '42501', null, '... nor its cost, metadata or model');

select tests.authenticate_as('alice');
select results_eq(
  format($$select user_id, system_prompt::text, metadata::jsonb from public.get_conversation(%L)$$, tests.id('shared')),
  format($$values (%L::uuid, 'Be brief.'::text, '{"team":"x"}'::jsonb)$$, tests.get_supabase_uid('alice')),
  'the owner still reads every field of their public conversation');
select is((select cost::numeric from public.list_messages(tests.id('shared'))), 0.25::numeric, '... and of its messages');

-- ---------------------------------------------------------------------------
-- Write quota: every insert path, RPC or table
-- ---------------------------------------------------------------------------
select tests.authenticate_as('spammer');
select tests.remember('spam', (public.create_conversation('mine')).id);
select tests.remember('spam_msg', (public.create_message(tests.id('spam'), 'first')).id);
select tests.remember('spam_doc', (public.save_document('Doc', 'x')).id);
select lives_ok($$select count(public.create_message(tests.id('spam'), 'm' || n)) from generate_series(1, 117) as n$$,
  'a basic user writes 120 rows a minute');
select throws_ok($$select public.create_conversation('one more')$$, 'PT429', null, 'the next conversation is PT429');
select throws_ok($$select public.create_message(tests.id('spam'), 'one more')$$, 'PT429', null, '... and the next message');
select throws_ok($$select public.save_document('Doc', 'y', p_id => tests.id('spam_doc'))$$, 'PT429', null, '... and the next document version');
select throws_ok($$select public.create_suggestions(tests.id('spam_doc'), '[{"original_text":"x","suggested_text":"y"}]')$$, 'PT429', null,
  '... and the next suggestion');
select throws_ok($$select public.vote_message(tests.id('spam_msg'), 'up')$$, 'PT429', null, '... and the next vote');
select throws_ok($$select public.create_stream(tests.id('spam'))$$, 'PT429', null, '... and the next stream');
select throws_ok(format($$insert into public.conversations (user_id, title) values (%L, 'direct')$$, tests.get_supabase_uid('spammer')),
  'PT429', null, 'the table endpoint costs the same quota');
select throws_ok(format($$insert into public.messages (conversation_id, role, content) values (%L, 'user', 'direct')$$, tests.id('spam')),
  'PT429', null, '... for messages too');
select is((select count(*)::int from public.messages where conversation_id = tests.id('spam')), 118, 'nothing refused was written');
set local app.usage_now = '2100-01-01 00:00:00+00';
select lives_ok($$select public.create_message(tests.id('spam'), 'a minute later')$$, 'the quota refills with time');
reset app.usage_now;

select tests.authenticate_as_service_role();
select lives_ok(format($$insert into public.conversations (user_id, title) values (%L, 'by the backend')$$, tests.get_supabase_uid('spammer')),
  'the service role is not limited');
select tests.authenticate_as('alice');
select lives_ok($$select public.create_conversation('unaffected')$$, 'quotas are per user');

select * from finish();
rollback;
