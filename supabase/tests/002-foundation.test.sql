-- Foundation helpers shared by every domain.
begin;
select plan(5);

select throws_ok($$select private.encryption_key('test_key_not_set')$$, '55000',
  'encryption key test_key_not_set is not configured', 'a missing key is an error, never an empty key');
select set_config('app.test_key_short', 'too-short', true);
select throws_ok($$select private.encryption_key('test_key_short')$$, '55000', null, 'a key under 32 characters is refused');
select set_config('app.test_key_ok', repeat('k', 32), true);
select is(private.encryption_key('test_key_ok'), repeat('k', 32), 'the app.<name> setting supplies the key without Vault');

select tests.authenticate_as_service_role();
select throws_ok($$select private.encryption_key('test_key_ok')$$, '42501', null, 'not even the service role reads keys directly');
select tests.clear_authentication();
select throws_ok($$select private.encryption_key('test_key_ok')$$, '42501', null, 'anon cannot read keys');

select * from finish();
rollback;
