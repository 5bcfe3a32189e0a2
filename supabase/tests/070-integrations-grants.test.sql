-- Who may call each integrations RPC and touch each table, per API role: the
-- grants themselves, so a later migration cannot widen them unnoticed.
begin;
select plan(5);

select results_eq(
  $$select p.proname::text collate "default", r.rolname::text collate "default"
      from pg_catalog.pg_proc as p
      join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
     cross join (values ('anon'), ('authenticated'), ('service_role')) as r(rolname)
     where n.nspname = 'public'
       and p.proname in ('cache_route', 'claim_notifications', 'claim_whatsapp_messages', 'complete_whatsapp_message',
                         'create_notification', 'create_transaction', 'enqueue_whatsapp_message', 'fail_whatsapp_message',
                         'find_nearby_locations', 'get_cached_route', 'get_user_api_key', 'mark_notifications_read',
                         'record_notification_result', 'set_default_payment_method', 'set_user_api_key',
                         'touch_github_repository', 'update_transaction_status', 'update_whatsapp_session_activity')
       and has_function_privilege(r.rolname, p.oid, 'execute')
     order by 1, 2$$,
  $$values ('cache_route', 'service_role'),
           ('claim_notifications', 'service_role'),
           ('claim_whatsapp_messages', 'service_role'),
           ('complete_whatsapp_message', 'service_role'),
           ('create_notification', 'service_role'),
           ('create_transaction', 'authenticated'), ('create_transaction', 'service_role'),
           ('enqueue_whatsapp_message', 'service_role'),
           ('fail_whatsapp_message', 'service_role'),
           ('find_nearby_locations', 'authenticated'), ('find_nearby_locations', 'service_role'),
           ('get_cached_route', 'authenticated'), ('get_cached_route', 'service_role'),
           ('get_user_api_key', 'service_role'),
           ('mark_notifications_read', 'authenticated'),
           ('record_notification_result', 'service_role'),
           ('set_default_payment_method', 'authenticated'),
           ('set_user_api_key', 'authenticated'),
           ('touch_github_repository', 'authenticated'),
           ('update_transaction_status', 'authenticated'), ('update_transaction_status', 'service_role'),
           ('update_whatsapp_session_activity', 'service_role')$$,
  'each integrations RPC is executable by exactly the roles that need it');

select is_empty(
  $$select c.oid::regclass::text
      from pg_catalog.pg_class as c
     where c.oid in ('public.transactions'::regclass, 'public.transaction_events'::regclass, 'public.account_balances'::regclass,
                     'public.payment_methods'::regclass, 'public.notifications'::regclass, 'public.locations'::regclass,
                     'public.routes'::regclass, 'public.user_api_keys'::regclass, 'public.github_repositories'::regclass,
                     'public.whatsapp_sessions'::regclass, 'public.whatsapp_message_queue'::regclass)
       and has_table_privilege('anon', c.oid, 'select,insert,update,delete')$$,
  'anon has no privilege on any integrations table');

select is_empty(
  $$select c.oid::regclass::text
      from pg_catalog.pg_class as c
     where c.oid in ('public.transactions'::regclass, 'public.transaction_events'::regclass, 'public.account_balances'::regclass,
                     'public.routes'::regclass, 'public.whatsapp_sessions'::regclass)
       and has_table_privilege('authenticated', c.oid, 'insert,update,delete')$$,
  'signed-in users write money, events, the route cache and sessions only through RPCs');

select ok(not has_table_privilege('authenticated', 'public.whatsapp_message_queue', 'select')
          and not has_table_privilege('authenticated', 'private.user_api_key_secrets', 'select')
          and not has_table_privilege('service_role', 'private.user_api_key_secrets', 'select'),
  'nobody but definer functions reads the ciphertexts; users do not read the WhatsApp queue');

-- What a user may write directly, column by column: only what the RPCs or
-- the documented table API could have written for them. No ids, no server
-- times (created_at, updated_at, last_accessed, read_at), no statuses.
select results_eq(
  $$select c.relname::text collate "default", a.attname::text collate "default", p.priv
      from pg_catalog.pg_class as c
      join pg_catalog.pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
     cross join (values ('INSERT'), ('UPDATE')) as p(priv)
     where c.oid in ('public.notifications'::regclass, 'public.locations'::regclass, 'public.routes'::regclass,
                     'public.user_api_keys'::regclass, 'public.github_repositories'::regclass, 'public.whatsapp_sessions'::regclass)
       and has_column_privilege('authenticated', c.oid, a.attnum, p.priv)
     order by 1, 3, 2$$,
  $$values ('github_repositories', 'default_branch', 'INSERT'), ('github_repositories', 'is_active', 'INSERT'),
           ('github_repositories', 'repo_name', 'INSERT'), ('github_repositories', 'repo_owner', 'INSERT'),
           ('github_repositories', 'repo_url', 'INSERT'),
           ('github_repositories', 'default_branch', 'UPDATE'), ('github_repositories', 'is_active', 'UPDATE'),
           ('github_repositories', 'repo_url', 'UPDATE'),
           ('locations', 'address', 'INSERT'), ('locations', 'category', 'INSERT'), ('locations', 'is_public', 'INSERT'),
           ('locations', 'lat', 'INSERT'), ('locations', 'lng', 'INSERT'), ('locations', 'metadata', 'INSERT'),
           ('locations', 'name', 'INSERT'), ('locations', 'user_id', 'INSERT'),
           ('locations', 'address', 'UPDATE'), ('locations', 'category', 'UPDATE'), ('locations', 'is_public', 'UPDATE'),
           ('locations', 'lat', 'UPDATE'), ('locations', 'lng', 'UPDATE'), ('locations', 'metadata', 'UPDATE'),
           ('locations', 'name', 'UPDATE')$$,
  'users insert and update only the columns the table API documents (locations, github_repositories); nothing of notifications, keys, routes, sessions');

select * from finish();
rollback;
