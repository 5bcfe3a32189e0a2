-- Identity: seed 003's experiences (RPCs and RLS for every role, bounds, the
-- write quota) and owner-tagged cache invalidation: an entry tagged
-- user:<id> stops being served when that user's profile or experiences change.
begin;
select plan(59);

select tests.create_supabase_user('ex_alice');
select tests.create_supabase_user('ex_bob');
select tests.create_supabase_user('ex_admin', app_metadata => '{"role":"admin"}');
select tests.create_supabase_user('ex_spammer');
select tests.create_supabase_user('ex_quiet');

-- Caches a value derived from a user's rows, tagged with the owner tag.
create function tests.cache_for(p_user text) returns void language sql as $$
  select public.set_cache('derived:' || p_user, '{"cached": true}', 300, array[private.user_cache_tag(tests.get_supabase_uid(p_user))]);
$$;
grant execute on function tests.cache_for(text) to service_role;

-- ---------------------------------------------------------------------------
-- The owner
-- ---------------------------------------------------------------------------
select tests.authenticate_as('ex_alice');
select tests.remember('first', (public.create_experience('Climbed Half Dome')).id);
select is((select row(user_id, content, metadata)::text from public.experiences where id = tests.id('first')),
  row(tests.get_supabase_uid('ex_alice'), 'Climbed Half Dome', '{}'::jsonb)::text,
  'create_experience stores the content for the caller, metadata {} by default');
select tests.remember('second', (public.create_experience('Ran a marathon', '{"year": 2025, "tag": "sport"}')).id);
select is((public.get_experience(tests.id('second'))).metadata, '{"year": 2025, "tag": "sport"}'::jsonb,
  'get_experience returns the caller''s experience with its metadata');
select is((select array_agg(id) from public.list_my_experiences()), array[tests.id('second'), tests.id('first')],
  'list_my_experiences: newest first');
select is((select array_agg(e.id) from public.list_my_experiences(1, (select created_at from public.experiences where id = tests.id('second')),
                                                                   tests.id('second')) as e),
  array[tests.id('first')], 'the cursor of a page''s last row gives the next page');
select is((public.update_experience(tests.id('second'), p_metadata => '{"tag": null, "km": 42}')).metadata,
  '{"year": 2025, "km": 42}'::jsonb, 'update_experience merges metadata; a key set to null is removed');
select is((public.update_experience(tests.id('second'), 'Ran a marathon in the rain')).content, 'Ran a marathon in the rain',
  'update_experience changes the content and leaves the metadata');
select is((select metadata from public.experiences where id = tests.id('second')), '{"year": 2025, "km": 42}'::jsonb,
  '... metadata unchanged');
select lives_ok($$insert into public.experiences (content) values ('Through the table endpoint')$$,
  'the owner may insert through the table (owner from the session)');
select is((select user_id from public.experiences where content = 'Through the table endpoint'), tests.get_supabase_uid('ex_alice'),
  '... and the row is theirs');
select throws_ok(format($$insert into public.experiences (user_id, content) values (%L, 'forged')$$, tests.get_supabase_uid('ex_bob')),
  '42501', null, 'the owner column is not the user''s to set');
select throws_ok(format($$update public.experiences set user_id = %L where id = %L$$, tests.get_supabase_uid('ex_bob'), tests.id('first')),
  '42501', null, 'an experience cannot be moved to another user');
select throws_ok(format($$update public.experiences set created_at = '2000-01-01' where id = %L$$, tests.id('first')),
  '42501', null, 'created_at is the server''s');

-- Bad inputs: each refused with its message, nothing written.
select throws_ok($$select public.create_experience(null)$$, '22023', 'invalid content: must be 1 to 10000 characters', 'content is required');
select throws_ok($$select public.create_experience('')$$, '22023', 'invalid content: must be 1 to 10000 characters', 'empty content is refused');
select throws_ok($$select public.create_experience(repeat('x', 10001))$$, '22023', 'invalid content: must be 1 to 10000 characters',
  'content over 10,000 characters is refused');
select throws_ok($$select public.create_experience('x', '[1, 2]')$$, '22023', 'invalid metadata: must be a JSON object',
  'metadata must be an object');
select throws_ok($$select public.create_experience('x', jsonb_build_object('k', repeat('x', 17000)))$$, '22023',
  'invalid p_metadata: at most 16384 bytes of JSON', 'metadata over 16 KiB is refused');
select throws_ok(format($$select public.update_experience(%L, '')$$, tests.id('first')), '22023',
  'invalid content: must be 1 to 10000 characters', 'update refuses empty content');
select throws_ok(format($$select public.update_experience(%L, p_metadata => '"text"')$$, tests.id('first')), '22023',
  'invalid metadata: must be a JSON object', 'update refuses metadata that is not an object');
select throws_ok($$insert into public.experiences (content) values ('')$$, '23514', null, 'the table refuses empty content too');
select throws_ok($$select public.list_my_experiences(0)$$, '22023', 'invalid limit: must be 1 to 100', 'a page holds 1 to 100');
select throws_ok($$select public.list_my_experiences(10, now())$$, '22023',
  'invalid cursor: give both p_before_created_at and p_before_id, or neither', 'a cursor needs both halves');
select is((select count(*)::int from public.experiences), 3, 'the refused calls wrote nothing');
select is((select content from public.experiences where id = tests.id('first')), 'Climbed Half Dome', '... and changed nothing');
select throws_ok($$select public.get_experience('00000000-0000-0000-0000-000000000000')$$, 'PT404', 'experience not found',
  'an unknown id is PT404');

-- ---------------------------------------------------------------------------
-- Another user
-- ---------------------------------------------------------------------------
select tests.authenticate_as('ex_bob');
select is_empty($$select * from public.list_my_experiences()$$, 'another user lists none of them');
select is_empty($$select * from public.experiences$$, 'another user reads none through the table');
select throws_ok(format('select public.get_experience(%L)', tests.id('first')), 'PT404', 'experience not found',
  'another user''s experience is PT404');
select throws_ok(format($$select public.update_experience(%L, 'mine now')$$, tests.id('first')), 'PT404', 'experience not found',
  'another user cannot update it');
select throws_ok(format('select public.delete_experience(%L)', tests.id('first')), 'PT404', 'experience not found',
  'another user cannot delete it');
select is_empty(format($$update public.experiences set content = 'mine now' where id = %L returning id$$, tests.id('first')),
  'a direct update of another user''s row touches nothing');
select is_empty(format('delete from public.experiences where id = %L returning id', tests.id('first')),
  'a direct delete of another user''s row touches nothing');

-- ---------------------------------------------------------------------------
-- Admin, anon, service role
-- ---------------------------------------------------------------------------
select tests.authenticate_as('ex_admin');
select is((select count(*)::int from public.experiences where user_id = tests.get_supabase_uid('ex_alice')), 3,
  'an admin reads every user''s experiences');
select is((public.get_experience(tests.id('first'))).content, 'Climbed Half Dome', 'an admin gets any experience by id');
select throws_ok(format($$select public.update_experience(%L, 'admin edit')$$, tests.id('first')), 'PT404', 'experience not found',
  'an admin changes only their own');
select is_empty(format('delete from public.experiences where id = %L returning id', tests.id('first')),
  'an admin deletes only their own');

select tests.clear_authentication();
select throws_ok($$select public.create_experience('anon')$$, '42501', null, 'anon cannot create');
select throws_ok($$select * from public.list_my_experiences()$$, '42501', null, 'anon cannot list');
select throws_ok($$select * from public.experiences$$, '42501', null, 'anon cannot read the table');

select tests.authenticate_as_service_role();
select is((select count(*)::int from public.experiences where user_id = tests.get_supabase_uid('ex_alice')), 3,
  'the service role reads every row');
select lives_ok(format($$insert into public.experiences (user_id, content) select %L, 'imported ' || n from generate_series(1, 150) as n$$,
                       tests.get_supabase_uid('ex_bob')),
  'the service role inserts for a user, without the write quota');

-- ---------------------------------------------------------------------------
-- Owner deletes; the write quota
-- ---------------------------------------------------------------------------
select tests.authenticate_as('ex_alice');
select lives_ok(format('select public.delete_experience(%L)', tests.id('first')), 'the owner deletes their experience');
select throws_ok(format('select public.delete_experience(%L)', tests.id('first')), 'PT404', 'experience not found',
  '... once');

select tests.authenticate_as('ex_spammer');
select lives_ok($$select count(public.create_experience('e' || n)) from generate_series(1, 120) as n$$,
  'a basic user records 120 experiences a minute');
select throws_ok($$select public.create_experience('one more')$$, 'PT429', null, 'the next is PT429');
select throws_ok($$insert into public.experiences (content) values ('direct')$$, 'PT429', null,
  'the table endpoint costs the same quota');

-- ---------------------------------------------------------------------------
-- Cache entries tagged with the owner are invalidated by the owner's changes
-- ---------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select is(private.user_cache_tag(tests.get_supabase_uid('ex_alice')), 'user:' || tests.get_supabase_uid('ex_alice'),
  'the owner tag is user:<id>');

select is_empty(format('select 1 from private.cache_tag_versions where tag = %L', private.user_cache_tag(tests.get_supabase_uid('ex_quiet'))),
  'a sign-up bumps no tag (no tag row for every new user)');
select tests.cache_for('ex_alice');
select tests.cache_for('ex_bob');
select is(public.get_cache('derived:ex_alice'), '{"cached": true}'::jsonb, 'an entry tagged with alice is served');

select tests.authenticate_as('ex_alice');
select public.touch_last_seen();
select public.update_my_profile();
select tests.authenticate_as_service_role();
select is(public.get_cache('derived:ex_alice'), '{"cached": true}'::jsonb,
  'presence and a profile update that changes nothing leave it cached');

select tests.authenticate_as('ex_alice');
select public.update_my_profile(p_display_name => 'Alice A.');
select tests.authenticate_as_service_role();
select is(public.get_cache('derived:ex_alice'), null, 'a change to alice''s profile: the entry is no longer served');
select is(public.get_cache('derived:ex_bob'), '{"cached": true}'::jsonb, '... while bob''s entry still is');

select tests.cache_for('ex_alice');
select tests.authenticate_as('ex_alice');
select public.create_experience('New one');
select tests.authenticate_as_service_role();
select is(public.get_cache('derived:ex_alice'), null, 'a new experience of alice''s invalidates it');

select tests.cache_for('ex_alice');
select tests.authenticate_as('ex_alice');
select public.update_experience(tests.id('second'), 'Edited');
select tests.authenticate_as_service_role();
select is(public.get_cache('derived:ex_alice'), null, 'an edited experience invalidates it');

select tests.cache_for('ex_alice');
select tests.authenticate_as('ex_alice');
select public.delete_experience(tests.id('second'));
select tests.authenticate_as_service_role();
select is(public.get_cache('derived:ex_alice'), null, 'a deleted experience invalidates it');

select tests.cache_for('ex_alice');
savepoint before_change;
select tests.authenticate_as('ex_alice');
select public.update_my_profile(p_display_name => 'Rolled back');
rollback to savepoint before_change;
select tests.authenticate_as_service_role();
select is(public.get_cache('derived:ex_alice'), '{"cached": true}'::jsonb,
  'a change that rolls back invalidates nothing (the bump is in the writer''s transaction)');

update public.profiles set role = 'user', email = 'alice@other.example' where id = tests.get_supabase_uid('ex_alice');
select is(public.get_cache('derived:ex_alice'), null, 'a service-role write to the profile invalidates it too');

select tests.reset_role();
delete from auth.users where id = tests.get_supabase_uid('ex_bob');
select tests.authenticate_as_service_role();
select is(public.get_cache('derived:ex_bob'), null, 'deleting the user (cascading to their rows) invalidates their entries');

select tests.cache_for('ex_alice');
select tests.authenticate_as('ex_alice');
select public.save_document('Notes', 'first draft');
select tests.authenticate_as_service_role();
select is(public.get_cache('derived:ex_alice'), null, 'a saved document of alice''s invalidates her entries (seed 003 documents)');

select * from finish();
rollback;
