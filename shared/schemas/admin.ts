// The admin RPC contract (supabase/migrations/*_admin.sql) as zod schemas:
// agent configs, model administration, feature flags, configurations,
// service registry. The argument rules mirror the SQL checks;
// tests/admin.test.ts proves results parse and that the documented rollout
// bucket formula equals the database's.
import { z } from 'zod';

/** SQLSTATEs specific to this domain (the rest are in ../errors.ts). */
export const AdminSqlState = {
  /** Unknown model, flag (kill switch) or service (heartbeat). HTTP 404. */
  notFound: 'PT404',
  /** Deactivating the default model, making an inactive model the default. HTTP 409. */
  conflict: 'PT409',
} as const;

const uuid = z.uuid();
const numeric = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)]).transform(Number);
const timestamp = z.string();

// ---------------------------------------------------------------------------
// Agent configs (admin_config rows, seed 002)
// ---------------------------------------------------------------------------
export const agentTypes = [
  'chat_model_agent',
  'provider_tools_agent',
  'document_agent',
  'python_agent',
  'mermaid_agent',
  'git_mcp_agent',
] as const;
export const providers = ['google', 'openai', 'anthropic'] as const;

/** `{agent_type}_{provider}`, e.g. chat_model_agent_google. */
export const agentConfigKey = (agent: (typeof agentTypes)[number], provider: string) => `${agent}_${provider}`;

const limit = z.number().int().min(1).max(1_000_000);
/** The rules validate_admin_config_data enforces (every agent is a tool agent). */
export const agentConfig = z
  .object({
    enabled: z.boolean(),
    rateLimit: z.object({ perMinute: limit, perHour: limit, perDay: limit }),
    tools: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]),
    systemPrompt: z.string().optional(),
    capabilities: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();
export type AgentConfig = z.infer<typeof agentConfig>;

export const appSettings = z
  .object({ activeProvider: z.string(), availableProviders: z.array(z.string()) })
  .loose()
  .refine((s) => s.availableProviders.includes(s.activeProvider), 'activeProvider must be in availableProviders');

/**
 * The check_rate_limit endpoint for an agent call: the agent's own limits
 * (`document_agent`), or with a plan endpoint's (`chat:document_agent`).
 */
export const agentEndpoint = (agent: (typeof agentTypes)[number], planEndpoint?: string) =>
  planEndpoint ? `${planEndpoint}:${agent}` : agent;

// ---------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------
export const modelConfig = z.object({
  id: uuid,
  model_id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  provider: z.string(),
  is_active: z.boolean(),
  is_default: z.boolean(),
  thinking_enabled: z.boolean(),
  input_pricing_per_million_tokens: numeric,
  output_pricing_per_million_tokens: numeric,
  cached_input_pricing_per_million_tokens: numeric.nullable(),
  metadata: z.record(z.string(), z.unknown()),
  created_at: timestamp,
  updated_at: timestamp,
});
export type ModelConfig = z.infer<typeof modelConfig>;

const price = z.number().min(0);
export const addModelConfigArgs = z.object({
  p_model_id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$/, 'invalid model_id'),
  p_name: z.string().min(1).max(200),
  p_provider: z.string().regex(/^[a-z][a-z0-9_-]{0,49}$/, 'invalid provider'),
  p_input_pricing_per_million_tokens: price,
  p_output_pricing_per_million_tokens: price,
  p_cached_input_pricing_per_million_tokens: price.nullish(),
  p_description: z.string().nullish(),
  p_thinking_enabled: z.boolean().optional(),
  p_is_active: z.boolean().optional(),
  p_metadata: z.record(z.string(), z.unknown()).optional(),
});

// ---------------------------------------------------------------------------
// Feature flags
// ---------------------------------------------------------------------------
export const flagStrategies = ['all', 'percentage', 'user_list', 'condition'] as const;
export const conditionOperators = ['in', 'not_in', 'eq', 'neq', 'gt', 'gte', 'lt', 'lte'] as const;

export const flagCondition = z.object({
  attribute: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/),
  operator: z.enum(conditionOperators),
  values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1),
});

export const upsertFeatureFlagArgs = z.object({
  p_flag_key: z.string().regex(/^[a-z0-9][a-z0-9_.:-]{0,99}$/, 'invalid flag_key'),
  p_environment: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/).optional(),
  p_enabled: z.boolean().optional(),
  p_strategy: z.enum(flagStrategies).optional(),
  p_rollout_percentage: z.number().min(0).max(100).optional(),
  p_user_ids: z.array(uuid).max(10_000).optional(),
  p_conditions: z.array(flagCondition).optional(),
  p_description: z.string().nullish(),
});

/** OpenFeature resolution reasons and error codes that evaluate_feature_flag returns. */
export const flagReason = z.enum(['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DEFAULT', 'DISABLED', 'ERROR']);
export const flagErrorCode = z.enum(['FLAG_NOT_FOUND', 'TARGETING_KEY_MISSING']);

/** What `evaluate_feature_flag` returns (OpenFeature evaluation details). */
export const flagEvaluation = z.object({
  flag_key: z.string(),
  value: z.boolean(),
  variant: z.enum(['on', 'off']),
  reason: flagReason,
  error_code: flagErrorCode.nullable(),
  environment: z.string().nullable(),
  flag_version: z.number().int().nullable(),
});
export type FlagEvaluation = z.infer<typeof flagEvaluation>;

export const flagStats = z.array(
  z.object({
    day: z.string(),
    environment: z.string(),
    flag_version: z.number().int(),
    variant: z.enum(['on', 'off']),
    users: z.number().int(),
  }),
);

/**
 * Rollout buckets: a user is in a p% rollout of a flag when
 * `parseInt(md5('<flag_key>:<user_id>').slice(0, 8), 16) % 10000 < p * 100`
 * (private.feature_flag_bucket). md5 gives the same bits on every PostgreSQL
 * version and in every language, unlike hashtext; tests/admin.test.ts checks
 * this formula against the database. Not exported as code: md5 is not in
 * WebCrypto, and this module also runs in browsers.
 */
export const FLAG_BUCKETS = 10_000;

// ---------------------------------------------------------------------------
// Configurations
// ---------------------------------------------------------------------------
export const configValueTypes = ['string', 'number', 'boolean', 'json'] as const;

export const setConfigArgs = z
  .object({
    p_service_name: z.string().regex(/^[a-z][a-z0-9_.-]{0,99}$/, 'invalid service_name'),
    p_config_key: z.string().regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,199}$/, 'invalid config_key'),
    p_config_value: z.unknown(),
    p_environment: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/).optional(),
    p_value_type: z.enum(configValueTypes).optional(),
    p_is_secret: z.boolean().optional(),
    p_description: z.string().nullish(),
  })
  .refine((a) => {
    const v = a.p_config_value;
    switch (a.p_value_type ?? 'string') {
      case 'string':
        return typeof v === 'string';
      case 'number':
        return typeof v === 'number';
      case 'boolean':
        return typeof v === 'boolean';
      default:
        return typeof v === 'object' && v !== null;
    }
  }, 'invalid config_value: must match p_value_type');

/** What `set_config` returns (a secret's value is null). */
export const configEntry = z.object({
  service_name: z.string(),
  config_key: z.string(),
  environment: z.string(),
  value_type: z.enum(configValueTypes),
  is_secret: z.boolean(),
  value: z.unknown(),
  version: z.number().int(),
  updated_at: timestamp,
});

/** What `get_service_configs` returns: config_key → resolved entry. */
export const serviceConfigs = z.record(
  z.string(),
  z.object({
    value: z.unknown(),
    value_type: z.enum(configValueTypes),
    environment: z.string(),
    is_secret: z.boolean(),
    version: z.number().int(),
    updated_at: timestamp,
  }),
);

// ---------------------------------------------------------------------------
// Service registry
// ---------------------------------------------------------------------------
export const serviceStatus = z.enum(['healthy', 'degraded', 'unhealthy', 'stopped']);

export const registerServiceArgs = z.object({
  p_service_name: z.string().regex(/^[a-z][a-z0-9_.-]{0,99}$/),
  p_service_type: z.string().regex(/^[a-z][a-z0-9_-]{0,49}$/),
  p_version: z.string().min(1).max(50),
  p_endpoint: z.string().regex(/^[a-z][a-z0-9+.-]*:\/\//).max(2048).nullish(),
  p_capabilities: z.array(z.unknown()).optional(),
  p_heartbeat_interval_seconds: z.number().int().min(1).max(3600).optional(),
});

export const serviceRegistryRow = z.object({
  id: uuid,
  service_name: z.string(),
  service_type: z.string(),
  version: z.string(),
  endpoint: z.string().nullable(),
  capabilities: z.array(z.unknown()),
  status: serviceStatus,
  metadata: z.record(z.string(), z.unknown()),
  heartbeat_interval_seconds: z.number().int(),
  last_heartbeat_at: timestamp,
  registered_at: timestamp,
  updated_at: timestamp,
});
