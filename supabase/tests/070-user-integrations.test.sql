-- User integrations: API keys encrypted at rest, masked for their owner,
-- plaintext only for the service role; GitHub repositories per user.
begin;
select plan(47);

select tests.create_supabase_user('int_alice');
select tests.create_supabase_user('int_bob');
select tests.create_supabase_user('int_admin', app_metadata => '{"role":"admin"}');
select tests.create_supabase_user('int_quota');

-- The encryption key comes from Vault or from this setting, never from the
-- data or the migration. The local stack has no Vault: tests set the setting.
select set_config('app.user_api_keys_encryption_key', 'test-only-key-0123456789abcdef0123456789abcdef', true);

-- ---------------------------------------------------------------------------
-- API keys: the owner
-- ---------------------------------------------------------------------------
select tests.authenticate_as('int_alice');
select is((public.set_user_api_key('openai', 'sk-live-abcdef1234567890wxyz')).key_hint, '...wxyz',
  'set_user_api_key returns the masked row');
select is((select key_hint from public.user_api_keys where service = 'openai'), '...wxyz', 'the owner lists the key masked');
select is((select count(*)::int from public.user_api_keys), 1, 'one key per user and service');
select is((public.set_user_api_key('openai', 'sk-live-replaced-key-0000')).key_hint, '...0000', 'setting again replaces the key');
select is((select count(*)::int from public.user_api_keys), 1, '... still one row');
select lives_ok($$select public.set_user_api_key('anthropic', 'sk-ant-123456789')$$, 'a second service is a second key');

select throws_ok($$select public.get_user_api_key(auth.uid(), 'openai')$$, '42501', null,
  'the owner cannot read the plaintext back');
select throws_ok($$select * from private.user_api_key_secrets$$, '42501', null, 'the owner cannot read the ciphertexts');
select throws_ok($$select private.user_api_keys_encryption_key()$$, '42501', null, 'the owner cannot read the encryption key');
select throws_ok($$select private.get_user_api_key(auth.uid(), 'openai')$$, '42501', null,
  'calling the private function directly does not help');
select throws_ok($$insert into public.user_api_keys (user_id, service, key_hint) values (auth.uid(), 'x', 'plain')$$, '42501', null,
  'keys are only set through set_user_api_key');

select throws_ok($$select public.set_user_api_key('Open AI', 'sk-123456789')$$, '22023',
  'invalid p_service: 1 to 50 lowercase letters, digits, ''_'', ''.'' or ''-''', 'a service name with a space is rejected');
select throws_ok($$select public.set_user_api_key('openai', 'short')$$, '22023', 'invalid p_api_key: 8 to 4096 characters without spaces',
  'a key under 8 characters is rejected');
select throws_ok($$select public.set_user_api_key('openai', 'sk-123 456789')$$, '22023', null, 'a key with a space is rejected');
select is((select key_hint from public.user_api_keys where service = 'openai'), '...0000', 'rejected calls changed nothing');

-- ---------------------------------------------------------------------------
-- Encrypted at rest
-- ---------------------------------------------------------------------------
select tests.reset_role();
select ok((select position(convert_to('sk-live-replaced-key-0000', 'UTF8') in s.ciphertext) = 0
             from private.user_api_key_secrets as s
            where s.user_id = tests.get_supabase_uid('int_alice') and s.service = 'openai'),
  'the stored ciphertext does not contain the key');
select throws_ok(format($$select extensions.pgp_sym_decrypt(ciphertext, 'a-wrong-key-of-at-least-32-characters!!') from private.user_api_key_secrets where user_id = %L and service = 'openai'$$,
                        tests.get_supabase_uid('int_alice')),
  '39000', null, 'the ciphertext does not open with another key');
select ok(not exists (select 1 from pg_catalog.pg_proc where prosrc like '%test-only-key-0123456789%'),
  'the key is not in any function''s source');

-- ---------------------------------------------------------------------------
-- Service role: plaintext
-- ---------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select is(public.get_user_api_key(tests.get_supabase_uid('int_alice'), 'openai'), 'sk-live-replaced-key-0000',
  'the service role reads the plaintext');
select isnt((select last_used_at from public.user_api_keys where user_id = tests.get_supabase_uid('int_alice') and service = 'openai'), null,
  '... and the use is recorded');
select throws_ok(format($$select public.get_user_api_key(%L, 'github')$$, tests.get_supabase_uid('int_alice')),
  'PT404', 'no API key for service "github"', 'a missing key is not found');
select throws_ok($$select public.set_user_api_key('openai', 'sk-123456789')$$, '42501', null,
  'the service role does not set keys on users'' behalf');

select set_config('app.user_api_keys_encryption_key', '', true);
select throws_ok(format($$select public.get_user_api_key(%L, 'openai')$$, tests.get_supabase_uid('int_alice')),
  '55000', 'encryption key user_api_keys_encryption_key is not configured', 'without a configured key nothing is decrypted');
select set_config('app.user_api_keys_encryption_key', 'test-only-key-0123456789abcdef0123456789abcdef', true);

-- ---------------------------------------------------------------------------
-- Other roles
-- ---------------------------------------------------------------------------
select tests.authenticate_as('int_bob');
select is_empty($$select 1 from public.user_api_keys$$, 'another user sees none of alice''s keys');
select is_empty(format($$delete from public.user_api_keys where user_id = %L returning service$$, tests.get_supabase_uid('int_alice')),
  'another user cannot delete them');
select throws_ok(format($$select public.get_user_api_key(%L, 'openai')$$, tests.get_supabase_uid('int_alice')), '42501', null,
  'another user cannot read them');

select tests.authenticate_as('int_admin');
select is_empty($$select 1 from public.user_api_keys$$, 'not even an admin lists other users'' keys');

select tests.clear_authentication();
select throws_ok($$select public.set_user_api_key('openai', 'sk-123456789')$$, '42501', null, 'anon cannot set keys');

select tests.authenticate_as('int_alice');
select isnt_empty($$delete from public.user_api_keys where service = 'anthropic' returning service$$, 'the owner deletes a key');
select tests.reset_role();
select is((select count(*)::int from private.user_api_key_secrets where user_id = tests.get_supabase_uid('int_alice')), 1,
  '... and its ciphertext goes with it');

-- ---------------------------------------------------------------------------
-- GitHub repositories
-- ---------------------------------------------------------------------------
select tests.authenticate_as('int_alice');
select lives_ok($$insert into public.github_repositories (repo_owner, repo_name, repo_url) values ('octo-org', 'hello.world', 'https://github.com/octo-org/hello.world')$$,
  'a user connects a repository');
select is((select user_id from public.github_repositories where repo_name = 'hello.world'), tests.get_supabase_uid('int_alice'),
  'it is theirs');
select tests.remember('repo', (select id from public.github_repositories where repo_name = 'hello.world'));
select throws_ok($$insert into public.github_repositories (repo_owner, repo_name) values ('Octo-Org', 'Hello.World')$$, '23505', null,
  'the same repository twice (names ignore case) is rejected');
select throws_ok($$insert into public.github_repositories (repo_owner, repo_name) values ('-bad', 'x')$$, '23514', null, 'an invalid owner is rejected');
select throws_ok($$insert into public.github_repositories (repo_owner, repo_name, default_branch) values ('octo', 'x', 'a..b')$$, '23514', null,
  'an invalid branch name is rejected');
select throws_ok(format($$insert into public.github_repositories (user_id, repo_owner, repo_name) values (%L, 'octo', 'x')$$, tests.get_supabase_uid('int_bob')),
  '42501', null, 'a user cannot connect a repository for someone else');
select isnt((public.touch_github_repository(tests.id('repo'))).last_accessed, null,
  'touch_github_repository records the access');
-- The grants hold what the table endpoint may set: no ids, no server times.
select throws_ok(format($$update public.github_repositories set last_accessed = 'infinity' where id = %L$$, tests.id('repo')), '42501', null,
  'a user cannot set last_accessed (only touch_github_repository does, to now())');
select throws_ok(format($$update public.github_repositories set id = gen_random_uuid() where id = %L$$, tests.id('repo')), '42501', null,
  'nor change a repository''s id');
select throws_ok($$insert into public.github_repositories (id, repo_owner, repo_name) values ('00000000-0000-4000-a000-0000000000aa', 'octo', 'chosen-id')$$,
  '42501', null, 'nor choose the id of a new one');
select throws_ok($$insert into public.github_repositories (repo_owner, repo_name, created_at) values ('octo', 'backdated', '2000-01-01')$$,
  '42501', null, 'nor its created_at');
select lives_ok(format($$update public.github_repositories set default_branch = 'develop', is_active = false where id = %L$$, tests.id('repo')),
  'the settings stay editable');

select tests.authenticate_as('int_bob');
select throws_ok(format($$select public.touch_github_repository(%L)$$, tests.id('repo')), 'PT404', null,
  'another user''s repository is not found');

-- Quota: connecting repositories and setting keys share the plan's writes (basic: 120 a minute).
select tests.authenticate_as('int_quota');
set local app.usage_now = '2026-03-12 10:00:00+00';
select lives_ok($$insert into public.github_repositories (repo_owner, repo_name) select 'octo', 'r' || n from generate_series(1, 119) as n$$,
  'a basic user connects 119 repositories in a minute');
select lives_ok($$select public.set_user_api_key('openai', 'sk-quota-12345678')$$, '... and sets one key (the 120th write)');
select throws_ok($$insert into public.github_repositories (repo_owner, repo_name) values ('octo', 'one-more')$$, 'PT429', null,
  'the next repository is refused with PT429 (HTTP 429)');
select throws_ok($$select public.set_user_api_key('anthropic', 'sk-quota-12345678')$$, 'PT429', null, '... and so is the next key');
reset app.usage_now;

select * from finish();
rollback;
