-- Identity: profiles, roles, experiences, and the RPCs clients call on them;
-- owner-tagged cache invalidation for the user's rows.
--
-- Seeds: 000 "Users Table ... extended with custom metadata", User {email, role,
-- last_seen_at}, `sync_users`; 003 Profile {username, avatar_url}, Experience
-- {content, metadata}, and update/delete "automatically invalidates cache"; 002
-- `get_user_role`, `is_current_user_admin`, `handle_auth_user_deletion`,
-- `validate_user_id`. Mapping and choices: docs/identity.md.
--
-- Roles come from app_metadata (only the service role / GoTrue admin API can
-- write it), never from user_metadata, which every user can change for
-- themselves with supabase.auth.updateUser().

-- ---------------------------------------------------------------------------
-- Roles
-- ---------------------------------------------------------------------------
create or replace function public.get_user_role()
returns text
language sql
stable
security invoker
set search_path = ''
as $$
  select coalesce(nullif((select auth.jwt()) -> 'app_metadata' ->> 'role', ''), 'user');
$$;

comment on function public.get_user_role() is
  'The caller''s application role from the JWT''s app_metadata.role (''admin'', ''user'', ...); ''user'' when unset. Never read from user_metadata.';

create or replace function public.is_current_user_admin()
returns boolean
language sql
stable
security invoker
set search_path = ''
as $$
  select coalesce((select auth.jwt()) ->> 'role' = 'authenticated' and public.get_user_role() = 'admin', false);
$$;

comment on function public.is_current_user_admin() is
  'True when the caller is a signed-in user whose app_metadata.role is ''admin''. Used by RLS policies as (select public.is_current_user_admin()).';

revoke execute on function public.get_user_role() from public, anon, authenticated, service_role;
revoke execute on function public.is_current_user_admin() from public, anon, authenticated, service_role;
grant execute on function public.get_user_role() to authenticated, service_role;
grant execute on function public.is_current_user_admin() to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- profiles: one row per auth user, created by a trigger on auth.users.
-- ---------------------------------------------------------------------------
create table if not exists public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  email text,
  username text,
  display_name text,
  avatar_url text,
  role text not null default 'user',
  metadata jsonb not null default '{}'::jsonb,
  last_seen_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint profiles_username_format check (username ~ '^[A-Za-z0-9_]{3,30}$'),
  constraint profiles_display_name_length check (char_length(display_name) between 1 and 100),
  constraint profiles_avatar_url_format check (avatar_url ~ '^https?://[^[:space:]]+$' and char_length(avatar_url) <= 2048),
  constraint profiles_metadata_object check (jsonb_typeof(metadata) = 'object' and pg_column_size(metadata) <= 16384)
);

comment on table public.profiles is
  'Application data about each auth user (seed 000 users, seed 003 profiles). Created by a trigger on auth.users; deleted with the user.';
comment on column public.profiles.id is 'The auth.users id (seed 003 Profile.user_id).';
comment on column public.profiles.email is 'Copy of auth.users.email, kept in sync by trigger.';
comment on column public.profiles.username is 'Public handle: 3-30 letters, digits or underscores; unique regardless of case.';
comment on column public.profiles.role is 'Mirror of auth.users.raw_app_meta_data->>''role'' (default ''user''), kept by trigger; not writable by users.';
comment on column public.profiles.metadata is 'Free-form app data about the user (a JSON object, at most 16 KiB).';
comment on column public.profiles.last_seen_at is 'Last activity, set by touch_last_seen() at most once a minute.';

create unique index if not exists profiles_username_key on public.profiles (lower(username));

alter table public.profiles enable row level security;

-- Reads: yourself; admins read everyone. One policy per operation and role.
create policy profiles_select on public.profiles
  for select to authenticated
  using (id = (select auth.uid()) or (select public.is_current_user_admin()));

create policy profiles_update on public.profiles
  for update to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()));

-- Explicit grants: nothing for anon; users may change only their own
-- presentation columns (role, email and timestamps are not theirs to set).
revoke all on table public.profiles from anon, authenticated, service_role;
grant select on table public.profiles to authenticated;
grant update (username, display_name, avatar_url, metadata) on table public.profiles to authenticated;
grant select, insert, update, delete on table public.profiles to service_role;

create trigger profiles_set_updated_at
  before update of username, display_name, avatar_url, metadata, email, role on public.profiles
  for each row execute function private.set_updated_at();

-- ---------------------------------------------------------------------------
-- Sync with auth.users (seed 000 sync_users). Security definer: GoTrue inserts
-- as supabase_auth_admin, which has no rights on public.profiles.
-- ---------------------------------------------------------------------------

-- Sign-up metadata is user-controlled: take only presentation fields from it,
-- and only when they are valid, so that a bad value can never block a sign-up.
create or replace function private.profile_defaults_from_auth(p_user_meta jsonb)
returns table (display_name text, avatar_url text)
language sql
immutable
security invoker
set search_path = ''
as $$
  with candidates as (
    select
      nullif(btrim(coalesce(p_user_meta ->> 'full_name', p_user_meta ->> 'name')), '') as display_name,
      coalesce(p_user_meta ->> 'avatar_url', p_user_meta ->> 'picture') as avatar_url
  )
  select
    case when char_length(c.display_name) <= 100 then c.display_name end,
    case when c.avatar_url ~ '^https?://[^[:space:]]+$' and char_length(c.avatar_url) <= 2048 then c.avatar_url end
  from candidates as c;
$$;

comment on function private.profile_defaults_from_auth(jsonb) is
  'Valid display name and avatar URL taken from sign-up user_metadata (full_name/name, avatar_url/picture), or nulls.';

create or replace function private.handle_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.profiles (id, email, role, display_name, avatar_url)
  select new.id,
         new.email,
         coalesce(nullif(new.raw_app_meta_data ->> 'role', ''), 'user'),
         d.display_name,
         d.avatar_url
    from private.profile_defaults_from_auth(new.raw_user_meta_data) as d
  on conflict (id) do nothing;
  return new;
end;
$$;

comment on function private.handle_new_user() is
  'Trigger on auth.users insert: creates the user''s profile (seed 000 sync_users).';

create or replace function private.handle_user_updated()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.profiles
     set email = new.email,
         role = coalesce(nullif(new.raw_app_meta_data ->> 'role', ''), 'user')
   where id = new.id
     and (email is distinct from new.email
          or role is distinct from coalesce(nullif(new.raw_app_meta_data ->> 'role', ''), 'user'));
  return new;
end;
$$;

comment on function private.handle_user_updated() is
  'Trigger on auth.users update of email or app metadata: keeps profiles.email and profiles.role in sync.';

revoke execute on function private.profile_defaults_from_auth(jsonb) from public, anon, authenticated, service_role;
revoke execute on function private.handle_new_user() from public, anon, authenticated, service_role;
revoke execute on function private.handle_user_updated() from public, anon, authenticated, service_role;

create trigger on_auth_user_created
  after insert on auth.users
  for each row execute function private.handle_new_user();

create trigger on_auth_user_updated
  after update of email, raw_app_meta_data on auth.users
  for each row execute function private.handle_user_updated();

-- ---------------------------------------------------------------------------
-- RPCs
-- ---------------------------------------------------------------------------
create or replace function public.get_my_profile()
returns public.profiles
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_profile public.profiles;
begin
  select p.* into v_profile from public.profiles as p where p.id = (select auth.uid());
  if not found then
    raise exception 'no profile for the current user'
      using errcode = 'PT404',
            hint = 'Call this as a signed-in user; profiles are created with the auth user.';
  end if;
  return v_profile;
end;
$$;

comment on function public.get_my_profile() is
  'The signed-in user''s profile (seed 000 getUserById for oneself). PT404 (HTTP 404) when there is none.';

create or replace function public.update_my_profile(
  p_username text default null,
  p_display_name text default null,
  p_avatar_url text default null,
  p_metadata jsonb default null
)
returns public.profiles
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := (select auth.uid());
  v_display_name text := nullif(btrim(p_display_name), '');
  v_profile public.profiles;
begin
  if v_uid is null then
    raise exception 'you must be signed in to update a profile' using errcode = '42501';
  end if;

  -- Validate everything before writing anything.
  if p_username is not null and p_username !~ '^[A-Za-z0-9_]{3,30}$' then
    raise exception 'invalid username: must be 3 to 30 characters, letters, digits or underscores'
      using errcode = '22023', detail = format('p_username = %L', left(p_username, 100));
  end if;
  if char_length(v_display_name) > 100 then
    raise exception 'invalid display name: at most 100 characters'
      using errcode = '22023', detail = format('length = %s', char_length(v_display_name));
  end if;
  if p_avatar_url <> '' and (p_avatar_url !~ '^https?://[^[:space:]]+$' or char_length(p_avatar_url) > 2048) then
    raise exception 'invalid avatar URL: must be an http(s) URL of at most 2048 characters'
      using errcode = '22023', detail = format('p_avatar_url = %L', left(p_avatar_url, 100));
  end if;
  if p_metadata is not null and jsonb_typeof(p_metadata) <> 'object' then
    raise exception 'invalid metadata: must be a JSON object'
      using errcode = '22023', detail = format('got a JSON %s', jsonb_typeof(p_metadata));
  end if;
  -- the merged object is capped at 16 KiB by the table; refuse a bigger
  -- argument before merging it
  perform private.require_json_size(p_metadata, 'p_metadata', 16384);

  begin
    update public.profiles as p
       set username = coalesce(p_username, p.username),
           -- '' clears; null leaves as is
           display_name = case when p_display_name is null then p.display_name else v_display_name end,
           avatar_url = case when p_avatar_url is null then p.avatar_url else nullif(p_avatar_url, '') end,
           -- shallow merge; a key set to JSON null is removed
           metadata = case when p_metadata is null then p.metadata
                           else jsonb_strip_nulls(p.metadata || p_metadata) end
     where p.id = v_uid
    returning p.* into v_profile;
  exception
    when unique_violation then
      raise exception 'username "%" is already taken', p_username
        using errcode = '23505', hint = 'Usernames are unique regardless of case.';
    when check_violation then
      raise exception 'invalid metadata: the profile''s metadata must stay under 16 KiB'
        using errcode = '22023';
  end;

  if v_profile.id is null then
    raise exception 'no profile for the current user' using errcode = 'PT404';
  end if;
  return v_profile;
end;
$$;

comment on function public.update_my_profile(text, text, text, jsonb) is
  'Updates the signed-in user''s username, display name, avatar URL and metadata. A null argument leaves the field as it is; '''' clears display name or avatar. Errors: 22023 invalid input, 23505 username taken, 42501 not signed in.';

-- last_seen_at is not a user-writable column: a definer helper in private sets
-- it to the server clock for the caller only.
create or replace function private.touch_last_seen()
returns timestamptz
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_seen timestamptz;
begin
  -- At most one write a minute per user: presence pings must not turn every
  -- page view into a row update.
  update public.profiles
     set last_seen_at = pg_catalog.now()
   where id = v_uid
     and (last_seen_at is null or last_seen_at < pg_catalog.now() - interval '1 minute')
  returning last_seen_at into v_seen;
  if v_seen is null then
    select p.last_seen_at into v_seen from public.profiles as p where p.id = v_uid;
  end if;
  return v_seen;
end;
$$;

comment on function private.touch_last_seen() is
  'Sets the caller''s profiles.last_seen_at to now(), at most once a minute; returns the stored value.';

create or replace function public.touch_last_seen()
returns timestamptz
language sql
volatile
security invoker
set search_path = ''
as $$
  select private.touch_last_seen();
$$;

comment on function public.touch_last_seen() is
  'Records that the signed-in user is active (seed 000 User.last_seen_at); returns last_seen_at. Writes at most once a minute.';

revoke execute on function public.get_my_profile() from public, anon, authenticated, service_role;
revoke execute on function public.update_my_profile(text, text, text, jsonb) from public, anon, authenticated, service_role;
revoke execute on function private.touch_last_seen() from public, anon, authenticated, service_role;
revoke execute on function public.touch_last_seen() from public, anon, authenticated, service_role;
grant execute on function public.get_my_profile() to authenticated;
grant execute on function public.update_my_profile(text, text, text, jsonb) to authenticated;
grant execute on function private.touch_last_seen() to authenticated;
grant execute on function public.touch_last_seen() to authenticated;

-- ---------------------------------------------------------------------------
-- experiences (seed 003 Experience {id, user_id, content, metadata,
-- created_at}): short texts a user records about themselves, owned and read
-- like the profile. Every insert costs one unit of the 'writes' quota.
-- ---------------------------------------------------------------------------
create table if not exists public.experiences (
  id uuid primary key default private.uuid_v7(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  content text not null,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  constraint experiences_content_length check (char_length(content) between 1 and 10000),
  constraint experiences_metadata_object check (jsonb_typeof(metadata) = 'object' and pg_column_size(metadata) <= 16384)
);

comment on table public.experiences is
  'Seed 003 Experience: a text (1 to 10,000 characters) and a JSON object a user records; the owner reads, writes and deletes, admins read every row.';
comment on column public.experiences.user_id is 'The owner (auth.users id); the signed-in user by default, and the only value RLS lets them insert.';
comment on column public.experiences.content is 'The experience itself: 1 to 10,000 characters.';
comment on column public.experiences.metadata is 'Free-form app data (a JSON object, at most 16 KiB).';

create index if not exists experiences_user_created_idx on public.experiences (user_id, created_at desc, id desc);

alter table public.experiences enable row level security;

create policy experiences_select on public.experiences
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_current_user_admin()));

create policy experiences_insert on public.experiences
  for insert to authenticated
  with check (user_id = (select auth.uid()));

create policy experiences_update on public.experiences
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));

create policy experiences_delete on public.experiences
  for delete to authenticated
  using (user_id = (select auth.uid()));

-- Users set content and metadata; the owner, id and time are the server's.
revoke all on table public.experiences from anon, authenticated, service_role;
grant select, delete on table public.experiences to authenticated;
grant insert (content, metadata), update (content, metadata) on table public.experiences to authenticated;
grant select, insert, update, delete on table public.experiences to service_role;

-- One unit of the caller's 'writes' quota per row, whichever way it comes in
-- (create_experience or the table endpoint); the service role is not limited.
create trigger experiences_consume_write_quota
  before insert on public.experiences
  for each row execute function private.consume_quota_per_row('writes');

-- Shared checks of create_experience and update_experience: one message per
-- mistake, before anything is written.
create or replace function private.check_experience_fields(p_content text, p_metadata jsonb)
returns void
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  if p_content is not null and char_length(p_content) not between 1 and 10000 then
    raise exception 'invalid content: must be 1 to 10000 characters'
      using errcode = '22023', detail = format('length = %s', char_length(p_content));
  end if;
  if p_metadata is not null and jsonb_typeof(p_metadata) <> 'object' then
    raise exception 'invalid metadata: must be a JSON object'
      using errcode = '22023', detail = format('got a JSON %s', jsonb_typeof(p_metadata));
  end if;
  perform private.require_json_size(p_metadata, 'p_metadata', 16384);
end;
$$;

comment on function private.check_experience_fields(text, jsonb) is
  'Raises 22023 unless content (when given) is 1 to 10,000 characters and metadata (when given) a JSON object of at most 16 KiB.';

revoke execute on function private.check_experience_fields(text, jsonb) from public, anon, authenticated, service_role;
grant execute on function private.check_experience_fields(text, jsonb) to authenticated;

create or replace function public.create_experience(p_content text, p_metadata jsonb default '{}'::jsonb)
returns public.experiences
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_experience public.experiences;
begin
  perform private.require_user();
  if p_content is null then
    raise exception 'invalid content: must be 1 to 10000 characters' using errcode = '22023';
  end if;
  perform private.check_experience_fields(p_content, p_metadata);
  insert into public.experiences (content, metadata)
  values (p_content, coalesce(p_metadata, '{}'::jsonb))
  returning * into v_experience;
  return v_experience;
end;
$$;

comment on function public.create_experience(text, jsonb) is
  'Records an experience for the signed-in user (seed 003 db.create(''experiences'', …)); costs one unit of the ''writes'' quota. Errors: 22023 invalid input, 42501 not signed in, PT429 quota spent.';

create or replace function public.get_experience(p_id uuid)
returns public.experiences
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_experience public.experiences;
begin
  perform private.require_user();
  select e.* into v_experience from public.experiences as e where e.id = p_id;
  if not found then
    raise exception 'experience not found' using errcode = 'PT404', detail = format('id = %s', p_id);
  end if;
  return v_experience;
end;
$$;

comment on function public.get_experience(uuid) is
  'One experience the caller may read (their own; an admin any). Errors: PT404 not found or not visible, 42501 not signed in.';

create or replace function public.list_my_experiences(
  p_limit integer default 50,
  p_before_created_at timestamptz default null,
  p_before_id uuid default null
)
returns setof public.experiences
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  -- No cursor: start above every row, so one index range serves every page.
  v_at timestamptz := coalesce(p_before_created_at, 'infinity'::timestamptz);
  v_id uuid := coalesce(p_before_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid);
begin
  if p_limit is null or p_limit not between 1 and 100 then
    raise exception 'invalid limit: must be 1 to 100' using errcode = '22023';
  end if;
  if (p_before_created_at is null) <> (p_before_id is null) then
    raise exception 'invalid cursor: give both p_before_created_at and p_before_id, or neither' using errcode = '22023';
  end if;
  return query
    select e.* from public.experiences as e
     where e.user_id = v_uid and (e.created_at, e.id) < (v_at, v_id)
     order by e.created_at desc, e.id desc
     limit p_limit;
end;
$$;

comment on function public.list_my_experiences(integer, timestamptz, uuid) is
  'The signed-in user''s experiences, newest first; the next page starts after the cursor p_before_created_at + p_before_id of the previous page''s last row. p_limit 1 to 100 (default 50). Errors: 22023, 42501.';

create or replace function public.update_experience(p_id uuid, p_content text default null, p_metadata jsonb default null)
returns public.experiences
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_experience public.experiences;
begin
  perform private.check_experience_fields(p_content, p_metadata);
  begin
    update public.experiences as e
       set content = coalesce(p_content, e.content),
           -- shallow merge, as update_my_profile; a key set to JSON null is removed
           metadata = case when p_metadata is null then e.metadata
                           else jsonb_strip_nulls(e.metadata || p_metadata) end
     where e.id = p_id and e.user_id = v_uid
    returning e.* into v_experience;
  exception
    when check_violation then
      raise exception 'invalid metadata: the experience''s metadata must stay under 16 KiB' using errcode = '22023';
  end;
  if v_experience.id is null then
    raise exception 'experience not found' using errcode = 'PT404', detail = format('id = %s', p_id);
  end if;
  return v_experience;
end;
$$;

comment on function public.update_experience(uuid, text, jsonb) is
  'Changes the content and/or merges metadata of the caller''s own experience; a null argument leaves the field as it is. Errors: 22023 invalid input, PT404 not the caller''s, 42501 not signed in.';

create or replace function public.delete_experience(p_id uuid)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
begin
  delete from public.experiences as e where e.id = p_id and e.user_id = v_uid;
  if not found then
    raise exception 'experience not found' using errcode = 'PT404', detail = format('id = %s', p_id);
  end if;
end;
$$;

comment on function public.delete_experience(uuid) is
  'Deletes the caller''s own experience. Errors: PT404 not the caller''s, 42501 not signed in.';

revoke execute on function public.create_experience(text, jsonb) from public, anon, authenticated, service_role;
revoke execute on function public.get_experience(uuid) from public, anon, authenticated, service_role;
revoke execute on function public.list_my_experiences(integer, timestamptz, uuid) from public, anon, authenticated, service_role;
revoke execute on function public.update_experience(uuid, text, jsonb) from public, anon, authenticated, service_role;
revoke execute on function public.delete_experience(uuid) from public, anon, authenticated, service_role;
grant execute on function public.create_experience(text, jsonb) to authenticated;
grant execute on function public.get_experience(uuid) to authenticated;
grant execute on function public.list_my_experiences(integer, timestamptz, uuid) to authenticated;
grant execute on function public.update_experience(uuid, text, jsonb) to authenticated;
grant execute on function public.delete_experience(uuid) to authenticated;

-- ---------------------------------------------------------------------------
-- Cache invalidation by owner (seed 003: update and delete "automatically
-- invalidate cache"). Cache entries derived from a user's rows carry the tag
-- 'user:<user id>' (private.user_cache_tag); any change to that user's
-- profile or experiences bumps the tag in the same transaction, so those
-- entries read as misses from its commit on (docs/platform.md, "Owner tags").
-- ---------------------------------------------------------------------------
-- Definer: the writer may be the user, the service role or a cascade from
-- auth.users, and only the cache's owner writes private.cache_tag_versions.
-- tg_argv[0] names the owner column. Defined here with the tables it
-- watches; private.invalidate_user_cache comes with the cache
-- (20261122050000_cache.sql) and is resolved when the trigger first fires.
create or replace function private.invalidate_owner_cache()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_old_owner uuid;
  v_new_owner uuid;
begin
  if tg_op <> 'INSERT' then
    v_old_owner := (pg_catalog.to_jsonb(old) ->> tg_argv[0])::uuid;
    perform private.invalidate_user_cache(v_old_owner);
  end if;
  if tg_op <> 'DELETE' then
    v_new_owner := (pg_catalog.to_jsonb(new) ->> tg_argv[0])::uuid;
    if v_new_owner is distinct from v_old_owner then
      perform private.invalidate_user_cache(v_new_owner);
    end if;
  end if;
  return null;
end;
$$;

comment on function private.invalidate_owner_cache() is
  'Trigger (after insert, update or delete on a user-owned table; argument: the owner column): invalidates the cache tag user:<owner> of the old and the new owner.';

revoke execute on function private.invalidate_owner_cache() from public, anon, authenticated, service_role;

-- Profiles: deletion (with the user) and changes to the columns anyone would
-- cache, only when one of them changes. Presence (last_seen_at) is not one;
-- nor is sign-up (nothing can be derived from a profile before it exists, and
-- a tag row for every new user would be waste).
create trigger profiles_invalidate_owner_cache
  after delete on public.profiles
  for each row execute function private.invalidate_owner_cache('id');
create trigger profiles_invalidate_owner_cache_on_update
  after update of username, display_name, avatar_url, metadata, email, role on public.profiles
  for each row
  when ((old.username, old.display_name, old.avatar_url, old.metadata, old.email, old.role)
        is distinct from (new.username, new.display_name, new.avatar_url, new.metadata, new.email, new.role))
  execute function private.invalidate_owner_cache('id');

create trigger experiences_invalidate_owner_cache
  after insert or update or delete on public.experiences
  for each row execute function private.invalidate_owner_cache('user_id');
