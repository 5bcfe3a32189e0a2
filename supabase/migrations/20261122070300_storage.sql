-- Storage: who may read and write which files in the avatars and documents
-- buckets (seed 003: StorageService uploadFile('avatars', 'user123/avatar.jpg'),
-- createSignedUrl('documents', ...), listFiles('documents', 'user123')).
-- The buckets themselves are reference data: supabase/seeds/integrations.sql.
-- Mapping and choices: docs/integrations.md.
--
-- Every object lives under a folder named after its owner's user id:
-- `<auth.uid()>/avatar.png`. A signed-in user reads, uploads, replaces and
-- deletes only under their own folder; avatars (a public bucket) are readable
-- by everyone. Signed URLs are made by the Storage API for a caller who may
-- select the object, so the select policy is also what lets a user sign a URL
-- for their own document.
--
-- This is a migration that runs on hosted Supabase as `postgres`: it only
-- creates policies on storage.objects (supautils lets postgres do that on a
-- table it does not own) and never alters the table itself, whose RLS Supabase
-- already enables.

create policy objects_select_anon on storage.objects
  for select to anon
  using (bucket_id = 'avatars');

create policy objects_select on storage.objects
  for select to authenticated
  using (
    bucket_id = 'avatars'
    or (bucket_id = 'documents' and (storage.foldername(name))[1] = (select auth.uid())::text)
  );

create policy objects_insert on storage.objects
  for insert to authenticated
  with check (
    bucket_id in ('avatars', 'documents')
    and (storage.foldername(name))[1] = (select auth.uid())::text
  );

create policy objects_update on storage.objects
  for update to authenticated
  using (
    bucket_id in ('avatars', 'documents')
    and (storage.foldername(name))[1] = (select auth.uid())::text
  )
  with check (
    bucket_id in ('avatars', 'documents')
    and (storage.foldername(name))[1] = (select auth.uid())::text
  );

create policy objects_delete on storage.objects
  for delete to authenticated
  using (
    bucket_id in ('avatars', 'documents')
    and (storage.foldername(name))[1] = (select auth.uid())::text
  );
