-- Storage buckets of seed 003 (the policies are in
-- supabase/migrations/20261122070300_storage.sql). Idempotent: re-running
-- resets the limits to these values.
--   avatars: public (anyone may read through the public URL), images up to 2 MiB.
--   documents: private (read through RLS or a signed URL), up to 50 MiB.
insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values
  ('avatars', 'avatars', true, 2097152, array['image/png', 'image/jpeg', 'image/webp', 'image/gif']),
  ('documents', 'documents', false, 52428800,
   array['application/pdf', 'text/plain', 'text/markdown', 'text/csv', 'application/json',
         'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
         'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
         'image/png', 'image/jpeg', 'image/webp'])
on conflict (id) do update
  set name = excluded.name,
      public = excluded.public,
      file_size_limit = excluded.file_size_limit,
      allowed_mime_types = excluded.allowed_mime_types;
