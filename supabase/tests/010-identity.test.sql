-- Identity: profiles created and synced from auth.users, roles from
-- app_metadata, the profile RPCs, and RLS for every role.
begin;
select plan(63);

-- ---------------------------------------------------------------------------
-- Sign-up creates the profile
-- ---------------------------------------------------------------------------
select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');
select tests.create_supabase_user('admin', app_metadata => '{"role":"admin"}');
select tests.create_supabase_user('carol', metadata => '{"full_name":"  Carol Example ","avatar_url":"https://cdn.example.com/c.png"}');
select tests.create_supabase_user('dave', metadata => '{"name":"Dave","avatar_url":"javascript:alert(1)"}');
-- user_metadata is writable by the user: a role there must grant nothing.
select tests.create_supabase_user('eve', metadata => '{"role":"admin"}');

select is(
  (select count(*)::int from public.profiles
    where id in (tests.get_supabase_uid('alice'), tests.get_supabase_uid('bob'), tests.get_supabase_uid('admin'),
                 tests.get_supabase_uid('carol'), tests.get_supabase_uid('dave'), tests.get_supabase_uid('eve'))),
  6, 'a profile is created for every new auth user');
select is((select email from public.profiles where id = tests.get_supabase_uid('alice')), 'alice@test.local',
  'the profile copies the email');
select is((select role from public.profiles where id = tests.get_supabase_uid('admin')), 'admin',
  'the profile role mirrors app_metadata.role');
select is((select role from public.profiles where id = tests.get_supabase_uid('eve')), 'user',
  'a role in user_metadata is ignored');
select is((select display_name from public.profiles where id = tests.get_supabase_uid('carol')), 'Carol Example',
  'display name comes from sign-up metadata, trimmed');
select is((select avatar_url from public.profiles where id = tests.get_supabase_uid('carol')), 'https://cdn.example.com/c.png',
  'avatar URL comes from sign-up metadata');
select is((select avatar_url from public.profiles where id = tests.get_supabase_uid('dave')), null,
  'an invalid avatar URL in sign-up metadata is dropped, not fatal');
select is((select username from public.profiles where id = tests.get_supabase_uid('alice')), null,
  'username starts unset');

-- ---------------------------------------------------------------------------
-- The owner
-- ---------------------------------------------------------------------------
select tests.authenticate_as('alice');

select is((public.get_my_profile()).id, tests.get_supabase_uid('alice'), 'get_my_profile returns the caller''s profile');
select is(public.get_user_role(), 'user', 'get_user_role is user by default');
select is(public.is_current_user_admin(), false, 'a plain user is not an admin');
select is((select count(*)::int from public.profiles), 1, 'a user sees only their own profile');

select is((public.update_my_profile(p_username => 'alice_1')).username, 'alice_1', 'update_my_profile sets the username');
select is((public.update_my_profile(p_display_name => 'Alice')).display_name, 'Alice', 'update_my_profile sets the display name');
select is((public.get_my_profile()).username, 'alice_1', 'a null argument leaves the username unchanged');
select is((public.update_my_profile(p_avatar_url => 'https://cdn.example.com/a.png')).avatar_url, 'https://cdn.example.com/a.png',
  'update_my_profile sets the avatar URL');
select is((public.update_my_profile(p_avatar_url => '')).avatar_url, null, 'an empty string clears the avatar URL');
select is((public.update_my_profile(p_display_name => '   ')).display_name, null, 'a blank display name clears it');

select is((public.update_my_profile(p_metadata => '{"theme":"dark"}')).metadata, '{"theme":"dark"}'::jsonb, 'metadata is set');
select is((public.update_my_profile(p_metadata => '{"lang":"en"}')).metadata, '{"theme":"dark","lang":"en"}'::jsonb,
  'metadata is merged key by key');
select is((public.update_my_profile(p_metadata => '{"theme":null}')).metadata, '{"lang":"en"}'::jsonb,
  'a key set to null is removed');

-- Bad input: a specific SQLSTATE, a message that says what is wrong, no change.
select throws_ok($$select public.update_my_profile(p_username => 'a b')$$, '22023',
  'invalid username: must be 3 to 30 characters, letters, digits or underscores', 'a username with a space is rejected');
select throws_ok($$select public.update_my_profile(p_username => 'ab')$$, '22023', null, 'a two-letter username is rejected');
select throws_ok($$select public.update_my_profile(p_username => repeat('x', 31))$$, '22023', null, 'a 31-character username is rejected');
select throws_ok($$select public.update_my_profile(p_display_name => repeat('x', 101))$$, '22023',
  'invalid display name: at most 100 characters', 'a 101-character display name is rejected');
select throws_ok($$select public.update_my_profile(p_avatar_url => 'ftp://example.com/a.png')$$, '22023',
  'invalid avatar URL: must be an http(s) URL of at most 2048 characters', 'a non-http avatar URL is rejected');
select throws_ok($$select public.update_my_profile(p_metadata => '[1,2]')$$, '22023',
  'invalid metadata: must be a JSON object', 'array metadata is rejected');
select throws_ok($$select public.update_my_profile(p_metadata => jsonb_build_object('blob', repeat(md5(random()::text), 1000)))$$,
  '22023', 'invalid p_metadata: at most 16384 bytes of JSON', 'oversized metadata is rejected before it is merged');
select throws_ok($$select public.update_my_profile(p_metadata => jsonb_build_object('a', repeat(md5(random()::text), 300))),
                        public.update_my_profile(p_metadata => jsonb_build_object('b', repeat(md5(random()::text), 300)))$$,
  '22023', 'invalid metadata: the profile''s metadata must stay under 16 KiB', '... and so is a merge that would outgrow 16 KiB');
select throws_ok($$select public.update_my_profile(p_username => 'bad name', p_display_name => 'Changed')$$, '22023', null,
  'one bad field rejects the whole update');
select is((public.get_my_profile()).display_name, null, '... and the valid fields of a rejected update are not written');
select is((public.get_my_profile()).username, 'alice_1', 'rejected updates changed nothing');

-- The table itself: only the presentation columns, only one's own row.
select throws_ok($$update public.profiles set role = 'admin' where id = (select auth.uid())$$, '42501', null,
  'a user cannot promote themselves through the table');
select throws_ok($$insert into public.profiles (id) values (gen_random_uuid())$$, '42501', null, 'a user cannot insert profiles');
select throws_ok($$delete from public.profiles where id = (select auth.uid())$$, '42501', null, 'a user cannot delete profiles');
select is_empty(
  format($$update public.profiles set username = 'hijack' where id = %L returning id$$, tests.get_supabase_uid('bob')),
  'a user cannot update another user''s profile');

select isnt(public.touch_last_seen(), null, 'touch_last_seen records activity');
select is(public.touch_last_seen(), (public.get_my_profile()).last_seen_at, 'touch_last_seen returns the stored time');

-- ---------------------------------------------------------------------------
-- Another user
-- ---------------------------------------------------------------------------
select tests.authenticate_as('bob');
select is((public.get_my_profile()).id, tests.get_supabase_uid('bob'), 'bob gets his own profile');
select is_empty(format('select 1 from public.profiles where id = %L', tests.get_supabase_uid('alice')),
  'another user''s profile is invisible, not an error');
select throws_ok($$select public.update_my_profile(p_username => 'ALICE_1')$$, '23505', 'username "ALICE_1" is already taken',
  'usernames are unique regardless of case');
select is((public.get_my_profile()).username, null, 'the failed claim changed nothing');

-- ---------------------------------------------------------------------------
-- Admin (app_metadata.role = admin)
-- ---------------------------------------------------------------------------
select tests.authenticate_as('admin');
select is(public.get_user_role(), 'admin', 'get_user_role reads app_metadata');
select is(public.is_current_user_admin(), true, 'an app_metadata admin is an admin');
select cmp_ok((select count(*)::int from public.profiles), '>=', 6, 'an admin reads every profile');
select is_empty(
  format($$update public.profiles set username = 'by_admin' where id = %L returning id$$, tests.get_supabase_uid('alice')),
  'an admin cannot edit someone else''s profile');

-- user_metadata.role = admin
select tests.authenticate_as('eve');
select is(public.is_current_user_admin(), false, 'user_metadata cannot make anyone an admin');
select is((select count(*)::int from public.profiles), 1, '... nor widen what they read');

-- ---------------------------------------------------------------------------
-- anon
-- ---------------------------------------------------------------------------
select tests.clear_authentication();
select throws_ok($$select 1 from public.profiles$$, '42501', null, 'anon cannot read profiles');
select throws_ok($$select public.get_my_profile()$$, '42501', null, 'anon cannot call get_my_profile');
select throws_ok($$select public.update_my_profile(p_username => 'anon_user')$$, '42501', null, 'anon cannot call update_my_profile');
select throws_ok($$select public.touch_last_seen()$$, '42501', null, 'anon cannot call touch_last_seen');
select throws_ok($$select public.is_current_user_admin()$$, '42501', null, 'anon cannot call is_current_user_admin');

-- ---------------------------------------------------------------------------
-- service role
-- ---------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select is(
  (select count(*)::int from public.profiles
    where id in (tests.get_supabase_uid('alice'), tests.get_supabase_uid('bob'), tests.get_supabase_uid('admin'),
                 tests.get_supabase_uid('carol'), tests.get_supabase_uid('dave'), tests.get_supabase_uid('eve'))),
  6, 'the service role reads every profile');
select is(public.is_current_user_admin(), false, 'the service role is not an admin user');
select throws_ok($$select public.get_my_profile()$$, '42501', null, 'get_my_profile is for signed-in users only');

-- ---------------------------------------------------------------------------
-- Sync and deletion (as the session user, as GoTrue's own writes would be)
-- ---------------------------------------------------------------------------
select tests.reset_role();
update auth.users set raw_app_meta_data = raw_app_meta_data || '{"role":"admin"}' where id = tests.get_supabase_uid('bob');
select is((select role from public.profiles where id = tests.get_supabase_uid('bob')), 'admin',
  'a role granted in app_metadata reaches the profile');
update auth.users set email = 'bob@new.example' where id = tests.get_supabase_uid('bob');
select is((select email from public.profiles where id = tests.get_supabase_uid('bob')), 'bob@new.example',
  'an email change reaches the profile');

-- touch_last_seen writes at most once a minute.
update public.profiles set last_seen_at = now() - interval '30 seconds' where id = tests.get_supabase_uid('alice');
select tests.authenticate_as('alice');
select is(public.touch_last_seen(), now() - interval '30 seconds', 'a ping within a minute does not write');
select tests.reset_role();
update public.profiles set last_seen_at = now() - interval '2 minutes' where id = tests.get_supabase_uid('alice');
select tests.authenticate_as('alice');
select is(public.touch_last_seen(), now(), 'a ping after a minute writes the server time');

select tests.reset_role();
delete from auth.users where id = tests.get_supabase_uid('carol');
select is((select count(*)::int from public.profiles p where p.display_name = 'Carol Example'), 0,
  'deleting the auth user deletes the profile');

-- updated_at moves on profile edits but not on presence pings
update public.profiles set updated_at = '2000-01-01' where id = tests.get_supabase_uid('dave');
update public.profiles set last_seen_at = now() where id = tests.get_supabase_uid('dave');
select is((select updated_at from public.profiles where id = tests.get_supabase_uid('dave')), '2000-01-01'::timestamptz,
  'a presence ping does not bump updated_at');
update public.profiles set display_name = 'Dave D' where id = tests.get_supabase_uid('dave');
select is((select updated_at from public.profiles where id = tests.get_supabase_uid('dave')), now(),
  'a profile edit bumps updated_at');

select * from finish();
rollback;
