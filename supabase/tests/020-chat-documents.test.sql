-- Chat, part 3: versioned documents, revert, suggestions, RLS for every role.
begin;
select plan(40);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');
select tests.create_supabase_user('admin', app_metadata => '{"role":"admin"}');

select tests.authenticate_as('alice');
select tests.remember('chat', (public.create_conversation('With artifacts')).id);

-- ---------------------------------------------------------------------------
-- Versions
-- ---------------------------------------------------------------------------
select tests.remember('doc', (public.save_document('Plan', 'draft', 'text', p_conversation_id => tests.id('chat'))).id);
select results_eq(
  format($$select version_number, parent_version, user_id, conversation_id, kind from public.get_document(%L)$$, tests.id('doc')),
  format($$values (1, null::int, %L::uuid, %L::uuid, 'text'::text)$$, tests.get_supabase_uid('alice'), tests.id('chat')),
  'the first save is version 1 with no parent, owned by the caller');
select results_eq(
  format($$select version_number, parent_version, content, conversation_id from public.save_document('Plan', 'second', p_id => %L, p_metadata => '{"update":"full"}')$$,
         tests.id('doc')),
  format($$values (2, 1, 'second'::text, %L::uuid)$$, tests.id('chat')),
  'each save is the next version with the previous one as parent (and keeps the conversation)');
select public.save_document('Plan v3', 'third', p_id => tests.id('doc'), p_expected_version => 2);
select is((public.get_document(tests.id('doc'))).content, 'third', 'get_document returns the latest version');
select is((public.get_document(tests.id('doc'), 1)).content, 'draft', 'get_document returns a given version');
select results_eq(
  format($$select version_number, parent_version from public.list_document_versions(%L)$$, tests.id('doc')),
  $$values (1, null::int), (2, 1), (3, 2)$$, 'list_document_versions lists every version in order with its parent');

select throws_ok(format($$select public.save_document('Plan', 'stale edit', p_id => %L, p_expected_version => 2)$$, tests.id('doc')),
  'PT409', 'stale document: the latest version is 3, not 2', 'a save based on an old version is PT409');
select throws_ok($$select public.save_document('  ', 'x')$$, '22023', 'invalid title: must be 1 to 200 characters', 'a blank title is rejected');
select throws_ok($$select public.save_document('t', 'x', 'image')$$, '22023', 'invalid kind: must be one of text, code, mermaid, sheet',
  'an unknown kind is rejected');
select throws_ok($$select public.save_document('t', repeat('x', 1000001))$$, '22023', 'invalid content: at most 1000000 characters',
  'oversized content is rejected');
select throws_ok($$select public.get_document(gen_random_uuid())$$, 'PT404', 'document not found', 'a missing document is PT404');
select throws_ok(format($$select public.get_document(%L, 9)$$, tests.id('doc')), 'PT404', 'document not found',
  'a missing version is PT404');
select is((select count(*)::int from public.documents), 3, 'rejected saves wrote nothing');
select is((public.save_document('Script', 'print(1)', 'python code')).kind, 'code', 'seed 002''s ''python code'' kind is stored as code');
select is((public.save_document('Chart', 'graph TD; A-->B', 'mermaid code')).kind, 'mermaid', '... and ''mermaid code'' as mermaid');
select throws_ok(format($$update public.documents set content = 'edited in place' where id = %L$$, tests.id('doc')),
  '42501', null, 'versions are immutable: no update through the table');

-- ---------------------------------------------------------------------------
-- Revert
-- ---------------------------------------------------------------------------
select results_eq(
  format($$select version_number, parent_version, title, content, metadata from public.revert_document(%L, 1)$$, tests.id('doc')),
  $$values (4, 3, 'Plan'::text, 'draft'::text, '{"reverted_from":1}'::jsonb)$$,
  'revert_document adds a new version equal to the old one, parented on the latest');
select is((select count(*)::int from public.list_document_versions(tests.id('doc'))), 4, 'reverting keeps the history');
select throws_ok(format($$select public.revert_document(%L, 4)$$, tests.id('doc')), 'PT409',
  'version 4 is already the latest', 'reverting to the latest version is PT409');
select throws_ok(format($$select public.revert_document(%L, 7)$$, tests.id('doc')), 'PT404',
  'document version not found', 'reverting to a missing version is PT404');

-- ---------------------------------------------------------------------------
-- Suggestions
-- ---------------------------------------------------------------------------
select results_eq(
  format($$select document_version, original_text, suggested_text, description, is_resolved
             from public.create_suggestions(%L, '[{"original_text":"draft","suggested_text":"final draft","description":"clearer"},
                                                  {"original_text":"draft","suggested_text":"outline"}]')$$, tests.id('doc')),
  $$values (4, 'draft'::text, 'final draft'::text, 'clearer'::text, false), (4, 'draft'::text, 'outline'::text, null::text, false)$$,
  'create_suggestions adds suggestions to the latest version');
select is((select count(*)::int from public.create_suggestions(tests.id('doc'), '[{"original_text":"second","suggested_text":"2nd"}]', 2)), 1,
  'create_suggestions can target an older version');
select tests.remember('sug', (select id from public.suggestions where suggested_text = 'outline'));
select results_eq(
  format($$select is_resolved, resolved_at from public.resolve_suggestion(%L)$$, tests.id('sug')),
  $$values (true, now())$$, 'resolve_suggestion resolves');
select is((public.resolve_suggestion(tests.id('sug'))).resolved_at, now(), 'resolving again changes nothing');
select throws_ok(format($$select public.create_suggestions(%L, '[]')$$, tests.id('doc')), '22023',
  'invalid suggestions: must be a JSON array of 1 to 100 objects', 'an empty suggestion list is rejected');
select throws_ok(format($$select public.create_suggestions(%L, '[{"original_text":"","suggested_text":"x"}]')$$, tests.id('doc')), '22023',
  'invalid suggestion: each needs original_text (1 to 20000 characters) and suggested_text (at most 20000), description at most 2000',
  'a suggestion without original text is rejected');
select is((select count(*)::int from public.suggestions), 3, 'rejected suggestions wrote nothing');

-- ---------------------------------------------------------------------------
-- Another user, admin, anon
-- ---------------------------------------------------------------------------
select tests.authenticate_as('bob');
select throws_ok(format($$select public.get_document(%L)$$, tests.id('doc')), 'PT404', 'document not found',
  'another user cannot read a document');
select throws_ok(format($$select * from public.list_document_versions(%L)$$, tests.id('doc')), 'PT404', 'document not found',
  '... nor its versions');
select throws_ok(format($$select public.save_document('Hijack', 'x', p_id => %L)$$, tests.id('doc')), 'PT404', 'document not found',
  '... nor add a version to it');
select throws_ok(format($$select public.revert_document(%L, 1)$$, tests.id('doc')), 'PT404', 'document version not found',
  '... nor revert it');
select throws_ok(format($$select public.create_suggestions(%L, '[{"original_text":"a","suggested_text":"b"}]')$$, tests.id('doc')),
  'PT404', 'document not found', '... nor suggest on it');
select throws_ok(format($$select public.resolve_suggestion(%L)$$, tests.id('sug')), 'PT404', 'suggestion not found',
  '... nor resolve its suggestions');
select throws_ok(format($$select public.save_document('Mine', 'x', p_conversation_id => %L)$$, tests.id('chat')), 'PT404',
  'conversation not found', 'a document cannot be attached to someone else''s conversation');
select is((select count(*)::int from public.documents), 0, 'another user sees no document and wrote none');

select tests.authenticate_as('admin');
select is((public.get_document(tests.id('doc'))).version_number, 4, 'an admin reads any document');
select is((select count(*)::int from public.suggestions where document_id = tests.id('doc')), 3, '... and its suggestions');
select throws_ok(format($$select public.save_document('By admin', 'x', p_id => %L)$$, tests.id('doc')), '42501',
  'only the owner can save a document', 'an admin cannot add a version to someone else''s document');

select tests.clear_authentication();
select throws_ok($$select 1 from public.documents$$, '42501', null, 'anon cannot read documents');
select throws_ok($$select public.get_document(gen_random_uuid())$$, '42501', null, 'anon cannot call get_document');

select tests.authenticate_as_service_role();
select is((select count(*)::int from public.documents where user_id = tests.get_supabase_uid('alice')), 6, 'the service role reads every document');

select * from finish();
rollback;
