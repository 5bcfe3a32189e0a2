-- Usage reference data (idempotent): the plan catalog and its rate limits,
-- and the models of seed 002 with their list prices (USD per million tokens,
-- as published by Google, OpenAI and Anthropic for standard, non-batch use;
-- Gemini 2.5 Pro at its <=200k-token prompt tier). docs/usage.md explains the units.

-- Plans: seed 000 credits per day and month (1 credit = US$1 of model cost),
-- seed 001 feature gating (ai_chat needs pro).
insert into public.plans (plan_name, display_name, tier, max_credits_per_day, max_credits_per_month, features)
values
  ('basic', 'Basic', 1, 1.00, 10.00, array['chat', 'video_upload', 'quiz_generation', 'api']),
  ('pro', 'Pro', 2, 10.00, 200.00,
   array['chat', 'video_upload', 'quiz_generation', 'api', 'ai_chat', 'thinking_models', 'usage_export']),
  ('enterprise', 'Enterprise', 3, 100.00, 2000.00,
   array['chat', 'video_upload', 'quiz_generation', 'api', 'ai_chat', 'thinking_models', 'usage_export',
         'custom_models', 'priority_support'])
on conflict (plan_name) do update
   set display_name = excluded.display_name,
       tier = excluded.tier,
       max_credits_per_day = excluded.max_credits_per_day,
       max_credits_per_month = excluded.max_credits_per_month,
       features = excluded.features;

-- Seed 001 "Plan-Based Limits" (null = unlimited).
insert into public.plan_rate_limits (plan_name, endpoint, window_seconds, max_requests)
values
  ('basic', 'chat', 60, 10),
  ('pro', 'chat', 60, 50),
  ('enterprise', 'chat', 60, null),
  ('basic', 'video_upload', 3600, 5),
  ('pro', 'video_upload', 3600, 20),
  ('enterprise', 'video_upload', 3600, null),
  ('basic', 'quiz_generation', 3600, 3),
  ('pro', 'quiz_generation', 3600, 15),
  ('enterprise', 'quiz_generation', 3600, null),
  ('basic', 'api_general', 60, 100),
  ('pro', 'api_general', 60, 500),
  ('enterprise', 'api_general', 60, null),
  -- Write quotas of the user-callable insert paths (private.consume_quota):
  -- generic writes, telemetry (metrics, events, errors, activity) and queued
  -- jobs. Finite on every plan: they bound what one account can store.
  ('basic', 'writes', 60, 120),
  ('pro', 'writes', 60, 600),
  ('enterprise', 'writes', 60, 3000),
  ('basic', 'telemetry', 60, 120),
  ('pro', 'telemetry', 60, 600),
  ('enterprise', 'telemetry', 60, 3000),
  ('basic', 'jobs', 3600, 60),
  ('pro', 'jobs', 3600, 600),
  ('enterprise', 'jobs', 3600, 6000)
on conflict (plan_name, endpoint, window_seconds) do update
   set max_requests = excluded.max_requests;

-- Seed 002 model_config: one default per provider, inactive legacy models kept for history.
insert into public.model_config (
  model_id, name, description, provider, is_active, is_default, thinking_enabled,
  input_pricing_per_million_tokens, output_pricing_per_million_tokens, cached_input_pricing_per_million_tokens, metadata
)
values
  ('gemini-2.0-flash', 'Gemini 2.0 Flash', 'Fast multimodal model for everyday tasks.', 'google', true, true, false,
   0.10, 0.40, 0.025, '{"context_window": 1048576, "max_output_tokens": 8192}'),
  ('gemini-2.5-flash', 'Gemini 2.5 Flash', 'Hybrid reasoning model with thinking budgets.', 'google', true, false, true,
   0.30, 2.50, 0.075, '{"context_window": 1048576, "max_output_tokens": 65536}'),
  ('gemini-2.5-pro', 'Gemini 2.5 Pro', 'Most capable Gemini model for complex reasoning and code.', 'google', true, false, true,
   1.25, 10.00, 0.3125, '{"context_window": 1048576, "max_output_tokens": 65536, "price_tier": "prompts <= 200k tokens"}'),
  ('gemma-3', 'Gemma 3', 'Open-weights model (free tier of the Gemini API).', 'google', false, false, false,
   0, 0, null, '{"context_window": 131072, "max_output_tokens": 8192}'),
  ('gpt-4o', 'GPT-4o', 'OpenAI flagship multimodal model.', 'openai', true, true, false,
   2.50, 10.00, 1.25, '{"context_window": 128000, "max_output_tokens": 16384}'),
  ('gpt-4o-mini', 'GPT-4o mini', 'Small, fast, low-cost OpenAI model.', 'openai', true, false, false,
   0.15, 0.60, 0.075, '{"context_window": 128000, "max_output_tokens": 16384}'),
  ('gpt-4-turbo', 'GPT-4 Turbo', 'Previous-generation GPT-4 model.', 'openai', false, false, false,
   10.00, 30.00, null, '{"context_window": 128000, "max_output_tokens": 4096}'),
  ('claude-3-5-sonnet-20241022', 'Claude 3.5 Sonnet', 'Anthropic''s balanced model for complex tasks.', 'anthropic', true, true, false,
   3.00, 15.00, 0.30, '{"context_window": 200000, "max_output_tokens": 8192}'),
  ('claude-3-5-haiku-20241022', 'Claude 3.5 Haiku', 'Anthropic''s fastest model.', 'anthropic', true, false, false,
   0.80, 4.00, 0.08, '{"context_window": 200000, "max_output_tokens": 8192}'),
  ('claude-3-opus-20240229', 'Claude 3 Opus', 'Previous-generation Anthropic flagship.', 'anthropic', false, false, false,
   15.00, 75.00, 1.50, '{"context_window": 200000, "max_output_tokens": 4096}')
on conflict (model_id) do update
   set name = excluded.name,
       description = excluded.description,
       provider = excluded.provider,
       is_active = excluded.is_active,
       is_default = excluded.is_default,
       thinking_enabled = excluded.thinking_enabled,
       input_pricing_per_million_tokens = excluded.input_pricing_per_million_tokens,
       output_pricing_per_million_tokens = excluded.output_pricing_per_million_tokens,
       cached_input_pricing_per_million_tokens = excluded.cached_input_pricing_per_million_tokens,
       metadata = excluded.metadata;
