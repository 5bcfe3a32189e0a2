-- Foundation: the schema that holds every domain's internals, and the helpers
-- all later migrations share.
--
-- Conventions every migration in this project follows (docs/conventions.md):
--   * public holds only what clients use: tables under RLS and RPC functions.
--     Internal tables and helpers live in `private`, which the Data API does
--     not expose ([api] schemas in supabase/config.toml).
--   * Every function: `set search_path = ''`, schema-qualified names, execute
--     revoked from public and granted per function to the roles that need it.
--   * Every table: RLS on, explicit grants (new projects expose nothing by
--     default), one policy per operation and role, `(select auth.uid())`.

create schema if not exists private;
comment on schema private is
  'Internal tables and helpers. Not exposed by the Data API; reached only through public RPCs and RLS policies.';

revoke all on schema private from public;
-- RLS policies and security-invoker RPCs call helpers that live here, so the
-- API roles need to resolve names in it; they get no table privileges.
grant usage on schema private to anon, authenticated, service_role;

-- Keeps updated_at honest on every table that has one; attach it with a
-- column list so that bookkeeping columns (last_seen_at, counters) don't bump it.
create or replace function private.set_updated_at()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  new.updated_at := pg_catalog.now();
  return new;
end;
$$;

comment on function private.set_updated_at() is
  'Trigger: sets updated_at to the transaction time on update.';

revoke execute on function private.set_updated_at() from public, anon, authenticated, service_role;

-- Encryption keys for data encrypted at rest (pgcrypto). The key is never in
-- the table it protects nor in a migration: on hosted Supabase it is a Vault
-- secret named p_name; without Vault (the local stack, self-hosted) it is the
-- database or role setting app.<p_name>. Definer, so callers need no access
-- to Vault; only other private definer functions call it.
create or replace function private.encryption_key(p_name text)
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_key text;
  v_vault regclass := pg_catalog.to_regclass('vault.decrypted_secrets');
begin
  if v_vault is not null then
    -- dynamic SQL: projects without Vault have no such view
    execute pg_catalog.format('select decrypted_secret from %s where name = $1 order by created_at desc limit 1', v_vault)
      into v_key using p_name;
  end if;
  v_key := coalesce(nullif(v_key, ''), nullif(pg_catalog.current_setting('app.' || p_name, true), ''));
  if v_key is null or pg_catalog.char_length(v_key) < 32 then
    raise exception 'encryption key % is not configured', p_name
      using errcode = '55000',
            hint = pg_catalog.format('Store a random key of at least 32 characters as the Vault secret %s (or set app.%s).', p_name, p_name);
  end if;
  return v_key;
end;
$$;

comment on function private.encryption_key(text) is
  'The encryption key named p_name: the Vault secret of that name, else the setting app.<p_name>; at least 32 characters. Raises 55000 when neither is set.';

revoke execute on function private.encryption_key(text) from public, anon, authenticated, service_role;
