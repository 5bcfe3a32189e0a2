-- User integrations: third-party API keys stored encrypted (seed 000
-- `user_api_keys`, one per user and service) and connected GitHub
-- repositories (seed 002 `github_repositories`, with last access).
-- Mapping and choices: docs/integrations.md.
--
-- API keys: encrypted at rest with pgcrypto (OpenPGP symmetric, AES-256). The
-- encryption key is in neither the table nor this migration: it comes from
-- Supabase Vault (secret `user_api_keys_encryption_key`) or, where there is no
-- Vault (the local stack), from the setting `app.user_api_keys_encryption_key`.
-- The ciphertext sits in a private table the API roles cannot reach; the
-- public table holds only a masked hint. The owner sets, lists (masked) and
-- deletes; only the service role ever gets the plaintext back.

-- ---------------------------------------------------------------------------
-- user_api_keys (masked, public) and their ciphertexts (private)
-- ---------------------------------------------------------------------------
create table if not exists public.user_api_keys (
  user_id uuid not null references auth.users (id) on delete cascade,
  service text not null,
  key_hint text not null,
  last_used_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_id, service),
  constraint user_api_keys_service_check check (service ~ '^[a-z0-9][a-z0-9_.-]{0,49}$')
);

comment on table public.user_api_keys is
  'A user''s API key per third-party service (seed 000 user_api_keys), masked: only the last 4 characters are shown. The encrypted key is in private.user_api_key_secrets.';
comment on column public.user_api_keys.key_hint is 'The key masked to its last 4 characters, e.g. ''...1a2b''.';
comment on column public.user_api_keys.last_used_at is 'When the service role last read the key (get_user_api_key).';

alter table public.user_api_keys enable row level security;

create policy user_api_keys_select on public.user_api_keys
  for select to authenticated
  using (user_id = (select auth.uid()));

create policy user_api_keys_delete on public.user_api_keys
  for delete to authenticated
  using (user_id = (select auth.uid()));

revoke all on table public.user_api_keys from anon, authenticated, service_role;
grant select, delete on table public.user_api_keys to authenticated;
grant select, delete on table public.user_api_keys to service_role;

create table if not exists private.user_api_key_secrets (
  user_id uuid not null,
  service text not null,
  ciphertext bytea not null,
  primary key (user_id, service),
  foreign key (user_id, service) references public.user_api_keys (user_id, service) on delete cascade
);

comment on table private.user_api_key_secrets is
  'The encrypted API key of each public.user_api_keys row (pgp_sym_encrypt, AES-256). Deleted with it.';

alter table private.user_api_key_secrets enable row level security;
revoke all on table private.user_api_key_secrets from public, anon, authenticated, service_role;

-- The encryption key: private.encryption_key (foundation) — the Vault secret
-- user_api_keys_encryption_key on hosted Supabase, else the setting
-- app.user_api_keys_encryption_key. Never a parameter, never stored with the data.
create or replace function private.user_api_keys_encryption_key()
returns text
language sql
stable
set search_path = ''
as $$
  select private.encryption_key('user_api_keys_encryption_key');
$$;

comment on function private.user_api_keys_encryption_key() is
  'The key user API keys are encrypted with: Vault secret user_api_keys_encryption_key, else setting app.user_api_keys_encryption_key (at least 32 characters). Raises 55000 when neither is set.';

create or replace function private.set_user_api_key(p_service text, p_api_key text)
returns public.user_api_keys
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_row public.user_api_keys;
  v_now timestamptz := pg_catalog.now();
begin
  if p_service is null or p_service !~ '^[a-z0-9][a-z0-9_.-]{0,49}$' then
    raise exception 'invalid p_service: 1 to 50 lowercase letters, digits, ''_'', ''.'' or ''-''' using errcode = '22023';
  end if;
  if p_api_key is null or char_length(p_api_key) not between 8 and 4096 or p_api_key ~ '[[:space:][:cntrl:]]' then
    raise exception 'invalid p_api_key: 8 to 4096 characters without spaces' using errcode = '22023';
  end if;
  perform private.consume_quota('writes');

  insert into public.user_api_keys as k (user_id, service, key_hint, created_at, updated_at)
  values (v_uid, p_service, '...' || pg_catalog.right(p_api_key, 4), v_now, v_now)
  on conflict (user_id, service) do update set key_hint = excluded.key_hint, updated_at = excluded.updated_at
  returning * into v_row;

  insert into private.user_api_key_secrets as s (user_id, service, ciphertext)
  values (v_uid, p_service,
          extensions.pgp_sym_encrypt(p_api_key, private.user_api_keys_encryption_key(), 'cipher-algo=aes256, compress-algo=0'))
  on conflict (user_id, service) do update set ciphertext = excluded.ciphertext;

  return v_row;
end;
$$;

comment on function private.set_user_api_key(text, text) is
  'Stores the caller''s API key for a service, encrypted; returns the masked row.';

create or replace function public.set_user_api_key(p_service text, p_api_key text)
returns public.user_api_keys
language sql
volatile
security invoker
set search_path = ''
as $$
  select private.set_user_api_key(p_service, p_api_key);
$$;

comment on function public.set_user_api_key(text, text) is
  'Stores (or replaces) the signed-in user''s API key for a service, encrypted at rest; returns the masked row (key_hint ''...'' + last 4). The key is never returned to the user. Each call consumes one of the plan''s writes. Errors: 22023 invalid input, 42501 not signed in, PT429 quota spent, 55000 encryption not configured.';

create or replace function private.get_user_api_key(p_user_id uuid, p_service text)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_ciphertext bytea;
begin
  if not private.is_service_role() then
    raise exception 'only the service role may read API keys' using errcode = '42501';
  end if;
  select s.ciphertext into v_ciphertext
    from private.user_api_key_secrets as s
   where s.user_id = p_user_id and s.service = p_service;
  if v_ciphertext is null then
    raise exception 'no API key for service "%"', p_service using errcode = 'PT404';
  end if;
  update public.user_api_keys as k set last_used_at = pg_catalog.now()
   where k.user_id = p_user_id and k.service = p_service;
  return extensions.pgp_sym_decrypt(v_ciphertext, private.user_api_keys_encryption_key());
end;
$$;

comment on function private.get_user_api_key(uuid, text) is
  'Service role only: decrypts a user''s API key for a service and records the use.';

create or replace function public.get_user_api_key(p_user_id uuid, p_service text)
returns text
language sql
volatile
security invoker
set search_path = ''
as $$
  select private.get_user_api_key(p_user_id, p_service);
$$;

comment on function public.get_user_api_key(uuid, text) is
  'Service role only (edge functions calling the third-party service): the plaintext API key of a user for a service; sets last_used_at. Errors: PT404 none stored, 42501 not the service role, 55000 encryption not configured.';

revoke execute on function private.user_api_keys_encryption_key() from public, anon, authenticated, service_role;
revoke execute on function private.set_user_api_key(text, text) from public, anon, authenticated, service_role;
revoke execute on function public.set_user_api_key(text, text) from public, anon, authenticated, service_role;
revoke execute on function private.get_user_api_key(uuid, text) from public, anon, authenticated, service_role;
revoke execute on function public.get_user_api_key(uuid, text) from public, anon, authenticated, service_role;
grant execute on function private.set_user_api_key(text, text) to authenticated;
grant execute on function public.set_user_api_key(text, text) to authenticated;
grant execute on function private.get_user_api_key(uuid, text) to service_role;
grant execute on function public.get_user_api_key(uuid, text) to service_role;

-- ---------------------------------------------------------------------------
-- github_repositories
-- ---------------------------------------------------------------------------
create table if not exists public.github_repositories (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  repo_owner varchar(100) not null,
  repo_name varchar(100) not null,
  repo_url text,
  default_branch varchar(255) not null default 'main',
  is_active boolean not null default true,
  last_accessed timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint github_repositories_repo_owner_check check (repo_owner ~ '^[A-Za-z0-9]([A-Za-z0-9-]{0,38})$'),
  constraint github_repositories_repo_name_check check (repo_name ~ '^[A-Za-z0-9._-]{1,100}$' and repo_name not in ('.', '..')),
  constraint github_repositories_repo_url_check check (repo_url ~ '^https://[^[:space:]]+$' and char_length(repo_url) <= 2048),
  constraint github_repositories_default_branch_check check (default_branch ~ '^[^[:space:][:cntrl:]~^:?*\[\\]+$' and default_branch !~ '\.\.'),
  constraint github_repositories_last_accessed_finite check (isfinite(last_accessed) is not false)
);

comment on table public.github_repositories is
  'GitHub repositories a user connected for the Git MCP agent (seed 002 github_repositories). One row per repository per user (names compared without case, as GitHub does).';
comment on column public.github_repositories.last_accessed is 'Last time the agent used the repository (touch_github_repository).';

create unique index if not exists github_repositories_user_repo_key
  on public.github_repositories (user_id, lower(repo_owner), lower(repo_name));
create index if not exists github_repositories_user_active_idx
  on public.github_repositories (user_id, is_active, last_accessed desc nulls last);

alter table public.github_repositories enable row level security;

create policy github_repositories_select on public.github_repositories
  for select to authenticated
  using (user_id = (select auth.uid()));

create policy github_repositories_insert on public.github_repositories
  for insert to authenticated
  with check (user_id = (select auth.uid()));

create policy github_repositories_update on public.github_repositories
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));

create policy github_repositories_delete on public.github_repositories
  for delete to authenticated
  using (user_id = (select auth.uid()));

revoke all on table public.github_repositories from anon, authenticated, service_role;
grant select, delete on table public.github_repositories to authenticated;
grant insert (repo_owner, repo_name, repo_url, default_branch, is_active) on table public.github_repositories to authenticated;
-- last_accessed is not in the grant: only touch_github_repository sets it (to now()).
grant update (repo_url, default_branch, is_active) on table public.github_repositories to authenticated;
grant select, insert, update, delete on table public.github_repositories to service_role;

create trigger github_repositories_write_quota
  before insert on public.github_repositories
  for each row execute function private.consume_quota_per_row('writes');

create trigger github_repositories_set_updated_at
  before update of repo_owner, repo_name, repo_url, default_branch, is_active on public.github_repositories
  for each row execute function private.set_updated_at();

-- Security definer: users hold no UPDATE on last_accessed, so the time is
-- always the server's.
create or replace function private.touch_github_repository(p_repository_id uuid)
returns public.github_repositories
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_row public.github_repositories;
begin
  update public.github_repositories as r
     set last_accessed = pg_catalog.now()
   where r.id = p_repository_id and r.user_id = v_uid
  returning * into v_row;
  if v_row.id is null then
    raise exception 'repository % not found', p_repository_id using errcode = 'PT404';
  end if;
  return v_row;
end;
$$;

comment on function private.touch_github_repository(uuid) is
  'touch_github_repository for the signed-in caller: last_accessed = now() on their own repository.';

create or replace function public.touch_github_repository(p_repository_id uuid)
returns public.github_repositories
language sql
volatile
security invoker
set search_path = ''
as $$
  select private.touch_github_repository(p_repository_id);
$$;

comment on function public.touch_github_repository(uuid) is
  'Records that the signed-in user''s repository was just used (last_accessed = now()). Errors: PT404 not found, 42501 not signed in.';

revoke execute on function private.touch_github_repository(uuid) from public, anon, authenticated, service_role;
revoke execute on function public.touch_github_repository(uuid) from public, anon, authenticated, service_role;
grant execute on function private.touch_github_repository(uuid) to authenticated;
grant execute on function public.touch_github_repository(uuid) to authenticated;
