-- Storage: the buckets of seed 003 and the policies on storage.objects, per
-- role and folder. The Storage API runs its queries as the requesting role
-- with the request's JWT claims; these tests do the same.
begin;
select plan(28);

select tests.create_supabase_user('sto_alice');
select tests.create_supabase_user('sto_bob');

select results_eq($$select id, public from storage.buckets where id in ('avatars', 'documents') order by id$$,
  $$values ('avatars'::text, true), ('documents', false)$$, 'the avatars bucket is public, documents private');
select is((select file_size_limit from storage.buckets where id = 'avatars'), 2097152::bigint, 'avatars are limited to 2 MiB');
select ok((select 'image/png' = any (allowed_mime_types) and not 'application/pdf' = any (allowed_mime_types) from storage.buckets where id = 'avatars'),
  'avatars accept images only');
select tests.rls_enabled('storage', 'objects');
select is((select count(*)::int from pg_catalog.pg_policies where schemaname = 'storage' and tablename = 'objects'
            and policyname in ('objects_select_anon', 'objects_select', 'objects_insert', 'objects_update', 'objects_delete')), 5,
  'one policy per operation and role on storage.objects');

-- Helper data: as the Storage API's service connection would, one file each.
select tests.authenticate_as_service_role();
insert into storage.objects (bucket_id, name, owner, owner_id) values
  ('avatars', tests.get_supabase_uid('sto_bob') || '/avatar.png', tests.get_supabase_uid('sto_bob'), tests.get_supabase_uid('sto_bob')),
  ('documents', tests.get_supabase_uid('sto_bob') || '/secret.pdf', tests.get_supabase_uid('sto_bob'), tests.get_supabase_uid('sto_bob'));

-- ---------------------------------------------------------------------------
-- The owner (alice) in her own folder
-- ---------------------------------------------------------------------------
select tests.authenticate_as('sto_alice');
select lives_ok(format($$insert into storage.objects (bucket_id, name, owner, owner_id) values ('avatars', '%s/avatar.png', %L, %L)$$,
                       auth.uid(), auth.uid(), auth.uid()), 'a user uploads an avatar into their own folder');
select lives_ok(format($$insert into storage.objects (bucket_id, name, owner, owner_id) values ('documents', '%s/reports/q1.pdf', %L, %L)$$,
                       auth.uid(), auth.uid(), auth.uid()), 'a user uploads a document into a subfolder of their own folder');
select is((select count(*)::int from storage.objects where bucket_id = 'documents'), 1, 'a user lists only their own documents');
select is((select count(*)::int from storage.objects where bucket_id = 'avatars'), 2, 'a user sees every avatar (public bucket)');
select isnt_empty(format($$update storage.objects set metadata = '{"size": 10}' where name = '%s/reports/q1.pdf' returning id$$, auth.uid()),
  'a user replaces their own file (upsert)');
select throws_ok(format($$update storage.objects set name = '%s/stolen.pdf' where name = '%s/reports/q1.pdf'$$,
                        tests.get_supabase_uid('sto_bob'), auth.uid()),
  '42501', null, 'a user cannot move their file into another user''s folder');

-- outside the own folder
select throws_ok(format($$insert into storage.objects (bucket_id, name) values ('documents', '%s/planted.pdf')$$, tests.get_supabase_uid('sto_bob')),
  '42501', null, 'a user cannot upload into another user''s folder');
select throws_ok($$insert into storage.objects (bucket_id, name) values ('documents', 'private/doc.pdf')$$,
  '42501', null, 'a user cannot upload outside any user folder');
select throws_ok($$insert into storage.objects (bucket_id, name) values ('documents', 'top-level.pdf')$$,
  '42501', null, 'a user cannot upload at the bucket root');
select throws_ok(format($$insert into storage.objects (bucket_id, name) values ('other', '%s/x.txt')$$, auth.uid()),
  '42501', null, 'a user cannot upload into a bucket without policies');
select is_empty(format($$select 1 from storage.objects where name = '%s/secret.pdf'$$, tests.get_supabase_uid('sto_bob')),
  'a user cannot read another user''s document (so cannot sign a URL for it)');
select is_empty(format($$update storage.objects set metadata = '{}' where name = '%s/avatar.png' returning id$$, tests.get_supabase_uid('sto_bob')),
  'a user cannot overwrite another user''s avatar');
-- Deletes go through the Storage API, which removes the file as well: it runs
-- the DELETE as the requesting role with storage.allow_delete_query on. Any
-- other DELETE is refused (storage-api migration 0055-prevent-direct-deletes).
select throws_ok(format($$delete from storage.objects where name = '%s/avatar.png'$$, auth.uid()),
  '42501', null, 'a direct delete, not through the Storage API, is refused');
set local storage.allow_delete_query = 'true';
select is_empty(format($$delete from storage.objects where name like '%s/%%' returning id$$, tests.get_supabase_uid('sto_bob')),
  'a user cannot delete another user''s files');
select isnt_empty(format($$delete from storage.objects where name = '%s/avatar.png' returning id$$, auth.uid()),
  'a user deletes their own file');
set local storage.allow_delete_query = 'false';

-- ---------------------------------------------------------------------------
-- anon, service role, helpers
-- ---------------------------------------------------------------------------
select tests.clear_authentication();
select is((select count(*)::int from storage.objects where bucket_id = 'avatars'), 1, 'anon reads avatars (public bucket)');
select is_empty($$select 1 from storage.objects where bucket_id = 'documents'$$, 'anon reads no documents');
select throws_ok($$insert into storage.objects (bucket_id, name) values ('avatars', 'anon/x.png')$$, '42501', null, 'anon uploads nothing');

select tests.authenticate_as_service_role();
select is((select count(*)::int from storage.objects where bucket_id = 'documents'
            and name like any (array[tests.get_supabase_uid('sto_alice') || '/%', tests.get_supabase_uid('sto_bob') || '/%'])), 2,
  'the service role sees every document');

select is(storage.foldername('u1/reports/q1.pdf'), array['u1', 'reports'], 'storage.foldername gives the folders');
select is(storage.filename('u1/reports/q1.pdf'), 'q1.pdf', 'storage.filename gives the file name');
select is(storage.extension('u1/reports/q1.tar.gz'), 'gz', 'storage.extension gives the last extension');

-- Supabase refuses table DDL on storage.objects to postgres (only policies are allowed).
select tests.reset_role();
select throws_ok($$alter table storage.objects enable row level security$$, '42501', null,
  'as on hosted Supabase, postgres may not alter storage.objects');

select * from finish();
rollback;
