-- Identity: profiles, roles, and the profile RPCs clients call.
--
-- Seeds: 000 "Users Table ... extended with custom metadata", User {email, role,
-- last_seen_at}, `sync_users`; 003 Profile {username, avatar_url}; 002
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
