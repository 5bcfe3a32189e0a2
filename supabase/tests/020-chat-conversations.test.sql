-- Chat, part 1: the schema, conversations and their RPCs, RLS for every role,
-- keyset and offset pagination with equal timestamps.
begin;
select plan(83);

-- ---------------------------------------------------------------------------
-- Schema
-- ---------------------------------------------------------------------------
select has_table('public', t, format('table public.%s exists', t))
  from unnest(array['conversations', 'messages', 'message_votes', 'documents', 'suggestions', 'streams']) as t;
select tests.rls_enabled('public', t)
  from unnest(array['conversations', 'messages', 'message_votes', 'documents', 'suggestions', 'streams']) as t;
select set_eq(
  $$select tablename::text from pg_catalog.pg_publication_tables where pubname = 'supabase_realtime' and schemaname = 'public'
     and tablename in ('conversations', 'messages')$$,
  array['conversations', 'messages'],
  'conversations and messages are in the supabase_realtime publication');
select is_empty($$
  select p.polname from pg_catalog.pg_policy as p
   where p.polrelid in ('public.conversations'::regclass, 'public.messages'::regclass, 'public.message_votes'::regclass,
                        'public.documents'::regclass, 'public.suggestions'::regclass, 'public.streams'::regclass)
     and pg_catalog.pg_get_expr(coalesce(p.polqual, p.polwithcheck), p.polrelid) ~ 'auth\.uid\(\)'
     and pg_catalog.pg_get_expr(coalesce(p.polqual, p.polwithcheck), p.polrelid) !~ 'SELECT auth\.uid\(\)'
$$, 'every chat policy wraps auth.uid() in a select');

-- ---------------------------------------------------------------------------
-- Actors
-- ---------------------------------------------------------------------------
select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');
select tests.create_supabase_user('admin', app_metadata => '{"role":"admin"}');

-- ---------------------------------------------------------------------------
-- The owner: create, get, list, update, archive
-- ---------------------------------------------------------------------------
select tests.authenticate_as('alice');


select tests.remember('c1', (public.create_conversation('  First chat  ')).id);
select is((select title from public.get_conversation(tests.id('c1'))), 'First chat',
  'create_conversation stores the trimmed title');
select results_eq(
  format($$select user_id, visibility::text, is_archived, message_count::int, total_input_tokens::bigint, total_output_tokens::bigint,
                    total_cost::numeric, metadata::jsonb, last_message_at
             from public.get_conversation(%L)$$, tests.id('c1')),
  format($$values (%L::uuid, 'private'::text, false, 0, 0::bigint, 0::bigint, 0::numeric, '{}'::jsonb, null::timestamptz)$$,
         tests.get_supabase_uid('alice')),
  'a new conversation is private, unarchived, with zero counters and totals, owned by the caller');

select tests.remember('c2', (public.create_conversation('Tuned', p_model_name => 'gpt-4o-mini', p_system_prompt => 'Be brief.',
  p_temperature => 0.7, p_max_tokens => 1024, p_context_length => 200000, p_metadata => '{"source":"web"}',
  p_visibility => 'public', p_id => '11111111-1111-4111-8111-111111111111')).id);
select results_eq(
  $$select id, model_name::text, system_prompt::text, temperature::double precision, max_tokens::int, context_length::int,
           metadata::jsonb, visibility::text
      from public.get_conversation('11111111-1111-4111-8111-111111111111')$$,
  $$values ('11111111-1111-4111-8111-111111111111'::uuid, 'gpt-4o-mini'::text, 'Be brief.'::text, 0.7::double precision,
            1024, 200000, '{"source":"web"}'::jsonb, 'public'::text)$$,
  'create_conversation stores every seed 000 option, the seed 002 visibility and a client-chosen id');

-- Bad input: a specific SQLSTATE and message, and nothing written.
select throws_ok($$select public.create_conversation('   ')$$, '22023', 'invalid title: must be 1 to 200 characters',
  'a blank title is rejected');
select throws_ok($$select public.create_conversation(repeat('t', 201))$$, '22023', 'invalid title: must be 1 to 200 characters',
  'a 201-character title is rejected');
select throws_ok($$select public.create_conversation(null)$$, '22023', 'invalid title: must be 1 to 200 characters',
  'a missing title is rejected');
select throws_ok($$select public.create_conversation('t', p_temperature => 2.01)$$, '22023',
  'invalid temperature: must be between 0 and 2', 'a temperature above 2 is rejected');
select throws_ok($$select public.create_conversation('t', p_temperature => -0.1)$$, '22023',
  'invalid temperature: must be between 0 and 2', 'a negative temperature is rejected');
select throws_ok($$select public.create_conversation('t', p_max_tokens => 0)$$, '22023',
  'invalid max_tokens: must be a positive integer', 'zero max tokens is rejected');
select throws_ok($$select public.create_conversation('t', p_context_length => -5)$$, '22023',
  'invalid context_length: must be a positive integer', 'a negative context length is rejected');
select throws_ok($$select public.create_conversation('t', p_visibility => 'secret')$$, '22023',
  'invalid visibility: must be private or public', 'an unknown visibility is rejected');
select throws_ok($$select public.create_conversation('t', p_metadata => '[1]')$$, '22023',
  'invalid metadata: must be a JSON object of at most 16 KiB', 'array metadata is rejected');
select throws_ok($$select public.create_conversation('t', p_system_prompt => repeat('p', 100001))$$, '22023',
  'invalid system prompt: at most 100000 characters', 'an oversized system prompt is rejected');
select throws_ok($$select public.create_conversation('dup', p_id => '11111111-1111-4111-8111-111111111111')$$, '23505',
  'a conversation with this id already exists', 'a taken id is rejected');
select is((select count(*)::int from public.conversations), 2, '... and none of the rejected calls wrote anything');

-- Counters and totals are not the client's to write.
select throws_ok(format($$update public.conversations set message_count = 99 where id = %L$$, tests.id('c1')),
  '42501', null, 'message_count cannot be written through the table');
select throws_ok(format($$update public.conversations set total_cost = 0.5 where id = %L$$, tests.id('c1')),
  '42501', null, 'total_cost cannot be written through the table');
select throws_ok(format($$insert into public.conversations (user_id, title) values (%L, 'forged')$$, tests.get_supabase_uid('bob')),
  '42501', null, 'a conversation cannot be inserted for another user');

-- update_conversation
select is((public.update_conversation(tests.id('c2'), p_title => 'Renamed')).title, 'Renamed',
  'update_conversation changes the title');
select is((public.get_conversation(tests.id('c2'))).model_name, 'gpt-4o-mini',
  '... and leaves fields given as null alone');
select is((public.update_conversation(tests.id('c2'), p_metadata => '{"theme":"dark","source":null}')).metadata::jsonb,
  '{"theme":"dark"}'::jsonb, 'metadata is merged key by key; a null removes the key');
select is((public.update_conversation(tests.id('c2'), p_model_name => '')).model_name, null,
  'an empty model name clears it');
select is((public.update_conversation(tests.id('c2'), p_last_context => '{"usage":{"inputTokens":12}}')).last_context::jsonb,
  '{"usage":{"inputTokens":12}}'::jsonb, 'update_conversation stores the seed 002 last context');
select throws_ok(format($$select public.update_conversation(%L, p_title => 'Changed', p_temperature => 3)$$, tests.id('c2')),
  '22023', 'invalid temperature: must be between 0 and 2', 'update_conversation validates before writing');
select is((public.get_conversation(tests.id('c2'))).title, 'Renamed', '... so nothing of a rejected update is written');
select throws_ok($$select public.update_conversation('00000000-0000-4000-8000-000000000000', p_title => 'x')$$, 'PT404',
  'conversation not found', 'updating a missing conversation is PT404');

-- archive
select is((public.archive_conversation(tests.id('c1'))).is_archived, true, 'archive_conversation archives');
select is((select count(*)::int from public.list_conversations()), 1, 'list_conversations leaves archived conversations out by default');
select is((select count(*)::int from public.list_conversations(p_include_archived => true)), 2, '... and includes them on request');
select is((public.archive_conversation(tests.id('c1'), false)).is_archived, false,
  'archive_conversation(p_archived => false) unarchives');

-- list argument errors
select throws_ok($$select * from public.list_conversations(p_limit => 0)$$, '22023', 'invalid limit: must be 1 to 100', 'limit 0 is rejected');
select throws_ok($$select * from public.list_conversations(p_limit => 101)$$, '22023', 'invalid limit: must be 1 to 100', 'limit 101 is rejected');
select throws_ok($$select * from public.list_conversations(p_offset => -1)$$, '22023', 'invalid offset: must not be negative', 'a negative offset is rejected');
select throws_ok($$select * from public.list_conversations(p_before_id => gen_random_uuid())$$, '22023',
  'invalid cursor: give both p_before_updated_at and p_before_id, or neither', 'half a cursor is rejected');

-- ---------------------------------------------------------------------------
-- Another user: private rows are missing, public ones read-only
-- ---------------------------------------------------------------------------
select tests.authenticate_as('bob');
select throws_ok(format($$select public.get_conversation(%L)$$, tests.id('c1')), 'PT404',
  'conversation not found', 'another user''s private conversation is not found');
select is_empty(format($$select 1 from public.conversations where id = %L$$, tests.id('c1')),
  'another user''s private conversation is invisible in the table');
select is_empty($$select 1 from public.list_conversations(p_include_archived => true)$$, 'list_conversations shows only one''s own');
select throws_ok(format($$select public.update_conversation(%L, p_title => 'hijack')$$, tests.id('c1')), 'PT404',
  'conversation not found', 'another user cannot update a private conversation');
select throws_ok(format($$select public.archive_conversation(%L)$$, tests.id('c1')), 'PT404',
  'conversation not found', 'another user cannot archive it');
select throws_ok(format($$select public.delete_conversation(%L)$$, tests.id('c1')), 'PT404',
  'conversation not found', 'another user cannot delete it');
select is_empty(format($$update public.conversations set title = 'hijack' where id = %L returning 1$$, tests.id('c2')),
  'another user cannot update even a public conversation through the table');
select is_empty(format($$delete from public.conversations where id = %L returning 1$$, tests.id('c2')),
  '... nor delete it');
select is((public.get_conversation(tests.id('c2'))).title, 'Renamed', 'a public conversation is readable by anyone signed in');
select throws_ok(format($$select public.update_conversation(%L, p_title => 'hijack')$$, tests.id('c2')), '42501',
  'only the owner can change this conversation', 'a public conversation is changed by no one but its owner');
select throws_ok(format($$select public.delete_conversation(%L)$$, tests.id('c2')), '42501',
  'only the owner can change this conversation', '... nor deleted');

-- ---------------------------------------------------------------------------
-- Admin: reads everything, changes nothing of others
-- ---------------------------------------------------------------------------
select tests.authenticate_as('admin');
select is((public.get_conversation(tests.id('c1'))).id, tests.id('c1'),
  'an admin reads a private conversation');
select is((select count(*)::int from public.conversations where user_id = tests.get_supabase_uid('alice')), 2,
  'an admin reads every conversation in the table');
select is_empty($$select 1 from public.list_conversations(p_include_archived => true)$$, 'list_conversations is still the admin''s own list');
select throws_ok(format($$select public.archive_conversation(%L)$$, tests.id('c1')), '42501',
  'only the owner can change this conversation', 'an admin cannot archive someone else''s conversation');
select is_empty(format($$update public.conversations set title = 'by admin' where id = %L returning 1$$, tests.id('c1')),
  'an admin cannot update someone else''s conversation through the table');

-- ---------------------------------------------------------------------------
-- anon: public rows through the table, nothing else
-- ---------------------------------------------------------------------------
select tests.clear_authentication();
select results_eq($$select id from public.conversations$$, $$values ('11111111-1111-4111-8111-111111111111'::uuid)$$,
  'anon reads public conversations and no private one');
select throws_ok($$select public.get_conversation('11111111-1111-4111-8111-111111111111')$$, '42501', null,
  'anon cannot call the RPCs');
select throws_ok($$select public.create_conversation('anon chat')$$, '42501', null, 'anon cannot create conversations');
select throws_ok($$insert into public.conversations (user_id, title) values (gen_random_uuid(), 'x')$$, '42501', null,
  'anon cannot insert into the table');
select throws_ok($$select * from public.list_conversations()$$, '42501', null, 'anon cannot list');

-- ---------------------------------------------------------------------------
-- service role: full table access, no user RPCs
-- ---------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select is((select count(*)::int from public.conversations where user_id = tests.get_supabase_uid('alice')), 2,
  'the service role reads every conversation');
select throws_ok($$select public.create_conversation('service chat')$$, '42501', null,
  'the RPCs act for a signed-in user only; the service role uses the tables');
select lives_ok(format($$update public.conversations set total_input_tokens = 10, total_output_tokens = 20, total_cost = 0.25 where id = %L$$,
  tests.id('c1')), 'the service role (the usage domain) can write the totals');

-- ---------------------------------------------------------------------------
-- Pagination: 25 conversations with the same updated_at
-- ---------------------------------------------------------------------------
select tests.reset_role();
insert into public.conversations (user_id, title, updated_at, created_at)
select tests.get_supabase_uid('bob'), 'same time ' || n, '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00'
  from generate_series(1, 25) as n;
update public.conversations set is_archived = true
 where user_id = tests.get_supabase_uid('bob') and title in ('same time 3', 'same time 17');

select tests.authenticate_as('bob');
create temporary table pages on commit drop as
select * from tests.page_through(
  $$select c.id from public.list_conversations(p_include_archived => true, p_limit => 10,
      p_before_updated_at => (select updated_at from public.conversations where id = %1$L), p_before_id => %1$L) as c$$, 10);
grant all on pages to public;
select is((select count(*)::int from pages), 25, 'the keyset cursor walks all 25 conversations with equal timestamps');
select is((select count(distinct id)::int from pages), 25, '... each exactly once');
select is((select max(page) from pages), 3, '... in pages of 10, 10 and 5');
select results_eq(
  $$select id from pages order by page, pos$$,
  $$select id from public.conversations where user_id = (select auth.uid()) order by updated_at desc, id desc$$,
  '... in recency order, ties broken by id');
select results_eq(
  $$select id from public.list_conversations(p_include_archived => true, p_limit => 10, p_offset => 10)$$,
  $$select id from pages where page = 2 order by pos$$,
  'offset paging (seed 000) returns the same pages as the cursor');
select is((select count(*)::int from public.list_conversations(p_limit => 100)), 23,
  'without archived ones the list has 23');
select is(
  (select count(*)::int from public.list_conversations(p_limit => 100, p_before_updated_at => '2026-01-01 00:00:00+00',
     p_before_id => (select id from pages where page = 2 and pos = 1))),
  (select count(*)::int from pages as p join public.conversations as c using (id)
    where not c.is_archived and (p.page, p.pos) > (2, 1)),
  'the cursor works on the unarchived list too');

-- ---------------------------------------------------------------------------
-- updated_at: moved by edits, not by archiving
-- ---------------------------------------------------------------------------
select tests.reset_role();
update public.conversations set updated_at = '2000-01-01' where id = tests.id('c1');
select tests.authenticate_as('alice');
select public.archive_conversation(tests.id('c1'));
select is((select updated_at from public.conversations where id = tests.id('c1')), '2000-01-01'::timestamptz,
  'archiving does not move a conversation up the recency list');
select public.update_conversation(tests.id('c1'), p_title => 'Edited');
select is((select updated_at from public.conversations where id = tests.id('c1')), now(),
  'an edit bumps updated_at');

-- ---------------------------------------------------------------------------
-- delete_conversation
-- ---------------------------------------------------------------------------
select lives_ok(format($$select public.delete_conversation(%L)$$, tests.id('c1')),
  'the owner deletes a conversation');
select throws_ok(format($$select public.get_conversation(%L)$$, tests.id('c1')), 'PT404',
  'conversation not found', '... and it is gone');

select * from finish();
rollback;
