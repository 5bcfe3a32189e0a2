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
