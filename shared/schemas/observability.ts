// The observability RPC contract (supabase/migrations/2026112204*_*.sql) as
// zod schemas: validate before calling, parse what comes back. The rules
// mirror the SQL checks for a signed-in caller (the service role may also
// write the reserved names); tests/observability.test.ts proves both sides agree.
// JSON objects are limited to 16 KiB of stored jsonb in SQL; the zod check
// measures the JSON text, which is close but not byte-exact.
import { z } from 'zod';

/** SQL btrim() trims spaces only. */
const sqlTrim = (s: string) => s.replace(/^ +| +$/g, '');

/** A required label: not blank, at most `max` characters after trimming spaces. */
export const label = (field: string, max: number) =>
  z
    .string()
    .refine((s) => sqlTrim(s).length > 0, `invalid ${field}: required`)
    .refine((s) => sqlTrim(s).length <= max, `invalid ${field}: at most ${max} characters`);

/**
 * The names only the system writes (SQL private.is_reserved_name): admin,
 * system and service alone, and any name under admin., system., service. or
 * auth. (or with ':' as the separator), in any case.
 */
export const isReservedName = (s: string) => {
  const v = sqlTrim(s).toLowerCase();
  return ['admin', 'system', 'service'].includes(v) || /^(admin|system|service|auth)[.:]/.test(v);
};

/** A label a signed-in caller writes: also not a reserved name (SQL answers 42501 for one). */
export const userLabel = (field: string, max: number) =>
  label(field, max).refine((s) => !isReservedName(s), `invalid ${field}: reserved for the system`);

/** Optional text of at most `max` characters. */
export const optionalText = (field: string, max: number) =>
  z.string().max(max, `invalid ${field}: at most ${max} characters`);

/** A JSON object of at most 16 KiB. */
export const jsonObject = (field: string) =>
  z
    .record(z.string(), z.unknown())
    .refine((o) => JSON.stringify(o).length <= 16384, `invalid ${field}: at most 16 KiB`);

/** A host IPv4 or IPv6 address (not a network). */
export const ipAddress = z.union([z.ipv4(), z.ipv6()]);

export const httpMethod = z
  .string()
  .refine((m) => ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].includes(m.toUpperCase()), 'invalid request method');

export const errorType = z.enum(['auth', 'api', 'admin', 'app', 'user', 'permission', 'system']);
export const severity = z.enum(['info', 'warning', 'error', 'critical']);
export const actorType = z.enum(['user', 'service', 'system']);
export const healthStatus = z.enum(['healthy', 'degraded', 'unhealthy']);
/** A system's overall health: record_health_check's p_status and the health edge function's `status`. */
export type HealthStatus = z.infer<typeof healthStatus>;

const uuid = z.uuid();
const nonNegativeInt = z.number().int().nonnegative();
const cost = z.number().nonnegative().lt(10000);

/** `log_user_activity`. p_user_id is for the service role only (42501 for anyone else naming another user). */
export const logUserActivityArgs = z
  .object({
    p_activity_type: userLabel('activity_type', 50),
    p_activity_category: userLabel('activity_category', 50),
    p_correlation_id: uuid.optional(),
    p_activity_metadata: jsonObject('activity_metadata').optional(),
    p_resource_id: uuid.optional(),
    p_resource_type: optionalText('resource_type', 50).optional(),
    p_ip_address: ipAddress.optional(),
    p_user_agent: optionalText('user_agent', 1000).optional(),
    p_request_path: optionalText('request_path', 500).optional(),
    p_request_method: httpMethod.optional(),
    p_session_id: optionalText('session_id', 100).optional(),
    p_success: z.boolean().optional(),
    p_error_message: optionalText('error_message', 10000).optional(),
    p_user_id: uuid.optional(),
  })
  .strict();

/** `log_agent_activity`. Totals and duration are derived when left out. */
export const logAgentActivityArgs = z
  .object({
    p_agent_type: userLabel('agent_type', 50),
    p_operation_type: userLabel('operation_type', 50),
    p_operation_category: userLabel('operation_category', 50),
    p_correlation_id: uuid.optional(),
    p_operation_metadata: jsonObject('operation_metadata').optional(),
    p_resource_id: uuid.optional(),
    p_resource_type: optionalText('resource_type', 50).optional(),
    p_duration_ms: nonNegativeInt.optional(),
    p_start_time: z.iso.datetime({ offset: true }).optional(),
    p_end_time: z.iso.datetime({ offset: true }).optional(),
    p_model_id: optionalText('model_id', 100).optional(),
    p_provider: optionalText('provider', 50).optional(),
    p_thinking_mode: z.boolean().optional(),
    p_input_tokens: nonNegativeInt.optional(),
    p_output_tokens: nonNegativeInt.optional(),
    p_reasoning_tokens: nonNegativeInt.optional(),
    p_total_tokens: nonNegativeInt.optional(),
    p_input_cost: cost.optional(),
    p_output_cost: cost.optional(),
    p_total_cost: cost.optional(),
    p_success: z.boolean().optional(),
    p_error_type: optionalText('error_type', 100).optional(),
    p_error_message: optionalText('error_message', 10000).optional(),
    p_retry_count: nonNegativeInt.optional(),
    p_user_id: uuid.optional(),
  })
  .strict()
  .refine((a) => !a.p_start_time || !a.p_end_time || Date.parse(a.p_end_time) >= Date.parse(a.p_start_time), {
    message: 'invalid agent activity: end_time is before start_time',
  });

/** `log_error`. */
export const logErrorArgs = z
  .object({
    p_error_type: errorType.refine((t) => !isReservedName(t), 'invalid error_type: reserved for the system'),
    p_error_category: userLabel('error_category', 100),
    p_error_message: z.string().refine((s) => sqlTrim(s).length > 0 && s.length <= 10000, 'invalid error_message: required, at most 10000 characters'),
    p_error_details: jsonObject('error_details').optional(),
    p_request_path: optionalText('request_path', 500).optional(),
    p_request_method: httpMethod.optional(),
    p_user_agent: optionalText('user_agent', 1000).optional(),
    p_ip_address: ipAddress.optional(),
    p_session_id: optionalText('session_id', 100).optional(),
    p_severity: severity.optional(),
    p_correlation_id: uuid.optional(),
    p_user_id: uuid.optional(),
  })
  .strict();

/** `record_metric` (seed 004). */
export const recordMetricArgs = z
  .object({
    p_service_name: userLabel('service_name', 100),
    p_metric_type: label('metric_type', 50),
    p_metric_name: userLabel('metric_name', 200),
    p_value: z
      .number()
      .refine(Number.isFinite, 'invalid value: a finite number is required')
      .refine((v) => Math.abs(v) <= 1e15, 'invalid value: must be between -1e15 and 1e15'),
    p_unit: optionalText('unit', 20).optional(),
    p_tags: jsonObject('tags').optional(),
    p_correlation_id: uuid.optional(),
  })
  .strict();

/** `log_audit_event` (seed 004). A signed-in user may only name themselves (or leave the actor out). */
export const logAuditEventArgs = z
  .object({
    p_actor_type: actorType.nullable(),
    p_actor_identifier: z.string().max(200).nullable(),
    p_action: userLabel('action', 100),
    p_resource_type: userLabel('resource_type', 100),
    p_resource_id: optionalText('resource_id', 200).optional(),
    p_old_values: z.record(z.string(), z.unknown()).optional(),
    p_new_values: z.record(z.string(), z.unknown()).optional(),
    p_correlation_id: uuid.optional(),
    p_metadata: jsonObject('metadata').optional(),
  })
  .strict();

/** `track_event` (seed 004). */
export const trackEventArgs = z
  .object({
    p_event_name: userLabel('event_name', 100),
    p_event_category: userLabel('event_category', 50).optional(),
    p_properties: jsonObject('properties').optional(),
    p_session_id: optionalText('session_id', 100).optional(),
    p_correlation_id: uuid.optional(),
    p_user_id: uuid.optional(),
  })
  .strict();

/** `log_api_request` (service role). */
export const logApiRequestArgs = z
  .object({
    p_method: httpMethod,
    p_path: label('path', 500),
    p_status_code: z.number().int().min(100).max(599),
    p_duration_ms: nonNegativeInt,
    p_request_size: nonNegativeInt.optional(),
    p_response_size: nonNegativeInt.optional(),
    p_ip_address: ipAddress.optional(),
    p_user_agent: optionalText('user_agent', 1000).optional(),
    p_correlation_id: uuid.optional(),
    p_user_id: uuid.optional(),
  })
  .strict();

/** `record_health_check` (service role). */
export const recordHealthCheckArgs = z
  .object({
    p_component: label('component', 100),
    p_status: healthStatus,
    p_latency_ms: nonNegativeInt.optional(),
    p_details: jsonObject('details').optional(),
  })
  .strict();

const retentionDays = z.number().int().min(1).max(3650);

/** admin_config 'logging_settings' (seed 002), as get_logging_config() returns it. */
export const loggingSettings = z
  .object({
    error_logging_enabled: z.boolean(),
    user_activity_logging_enabled: z.boolean(),
    agent_activity_logging_enabled: z.boolean(),
    log_retention_days: z
      .object({ error_logs: retentionDays, user_activity_logs: retentionDays, agent_activity_logs: retentionDays })
      .partial()
      .strict(),
    /** log_<category>_events: false stops that category (category 'authentication' uses log_auth_events). */
    category_toggles: z.record(z.string(), z.boolean()),
    performance_settings: z.record(z.string(), z.unknown()),
    privacy_settings: z.object({ anonymize_ip: z.boolean().optional() }).loose(),
  })
  .loose();

export type LoggingSettings = z.infer<typeof loggingSettings>;

/** What `purge_old_activity_logs` returns (one row). */
export const purgeResult = z.object({
  user_logs_deleted: z.number(),
  agent_logs_deleted: z.number(),
  error_logs_deleted: z.number(),
});

/** `get_system_health()`: the seed 001 /api/health shape. */
export const systemHealth = z.object({
  status: z.enum(['healthy', 'degraded', 'unhealthy', 'unknown']),
  checks: z.record(
    z.string(),
    z.object({ status: healthStatus, latency: z.number().nullable(), checked_at: z.string(), details: z.record(z.string(), z.unknown()) }),
  ),
});

export type SystemHealth = z.infer<typeof systemHealth>;
