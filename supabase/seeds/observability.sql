-- Logging settings (seed 002 app settings, config_key 'logging_settings').
-- Seed 002 elides part of the JSON with "..."; the keys filled in here are the
-- ones the logging RPCs read (docs/observability.md lists each). Re-running
-- keeps what an admin has changed since: only missing top-level keys are added.
insert into public.admin_config (config_key, config_data)
values ('logging_settings', '{
  "error_logging_enabled": true,
  "user_activity_logging_enabled": false,
  "agent_activity_logging_enabled": false,
  "log_retention_days": {
    "error_logs": 90,
    "user_activity_logs": 30,
    "agent_activity_logs": 7
  },
  "category_toggles": {
    "log_auth_events": true,
    "log_chat_events": true,
    "log_document_events": true,
    "log_admin_events": true,
    "log_vote_events": true,
    "log_file_events": true,
    "log_artifact_events": true,
    "log_agent_events": true
  },
  "performance_settings": {
    "batch_writes": true,
    "batch_size": 100,
    "flush_interval_ms": 5000,
    "async_logging": true
  },
  "privacy_settings": {
    "anonymize_ip": false,
    "exclude_sensitive_data": true
  }
}'::jsonb)
on conflict (config_key) do update
  set config_data = excluded.config_data || public.admin_config.config_data;
