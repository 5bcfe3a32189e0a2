// The usage RPC contract (supabase/migrations/*_usage.sql) as zod schemas:
// plans and feature gates, credits, record_usage, usage reads, rate limits.
// The argument rules mirror the SQL checks; tests/usage.test.ts proves both
// sides agree and that every result parses.
import { z } from 'zod';

/** SQLSTATEs specific to this domain (the rest are in ../errors.ts). */
export const UsageSqlState = {
  /** require_feature: the caller's plan lacks the feature. HTTP 403. `details` is FeatureGateDetail JSON. */
  featureGate: 'PT403',
  /** A reservation that is already settled or voided. HTTP 409. */
  conflict: 'PT409',
} as const;

/** `details` of a PT403 from require_feature (seed 001 FeatureGateError(feature, requiredPlan, currentPlan)). */
export const featureGateDetail = z.object({
  feature: z.string(),
  required_plan: z.string(),
  current_plan: z.string(),
});
export type FeatureGateDetail = z.infer<typeof featureGateDetail>;

const numeric = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)]).transform(Number);
const uuid = z.uuid();
const int32 = z.number().int().min(0).max(2147483647);

// ---------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------
export const rateLimitRule = z.object({
  endpoint: z.string(),
  window_seconds: z.number().int(),
  max_requests: z.number().int().nullable(),
});

/** What `get_user_plan` returns. */
export const userPlan = z.object({
  user_id: uuid,
  plan_name: z.string(),
  display_name: z.string(),
  tier: z.number().int(),
  /** true when the user has no active plan row and is on basic by default. */
  is_default_plan: z.boolean(),
  active: z.boolean(),
  subscribed_plan_name: z.string().nullable(),
  max_credits_per_day: numeric,
  max_credits_per_month: numeric,
  reset_date: z.string().nullable(),
  features: z.array(z.string()),
  rate_limits: z.array(rateLimitRule),
});
export type UserPlan = z.infer<typeof userPlan>;

/** Arguments of `set_user_plan` (service role only). */
export const setUserPlanArgs = z
  .object({
    p_user_id: uuid,
    p_plan_name: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
    p_active: z.boolean().optional(),
    p_reset_date: z.iso.date().optional(),
    p_max_credits_per_day: z.number().min(0).nullable().optional(),
    p_max_credits_per_month: z.number().min(0).nullable().optional(),
  })
  .strict();

// ---------------------------------------------------------------------------
// Credits
// ---------------------------------------------------------------------------
export const creditWindow = z.object({
  limit: numeric,
  used: numeric,
  reserved: numeric,
  remaining: numeric,
  period_start: z.string(),
  resets_at: z.string(),
});

/** What `check_credits` returns. One credit = US$1 of model cost at list price. */
export const creditStatus = z.object({
  user_id: uuid,
  plan_name: z.string(),
  allowed: z.boolean(),
  day: creditWindow,
  month: creditWindow,
});
export type CreditStatus = z.infer<typeof creditStatus>;

/** Arguments of `reserve_credits`: p_amount, or p_model with token counts. */
export const reserveCreditsArgs = z
  .object({
    p_user_id: uuid,
    p_amount: z.number().positive().optional(),
    p_model: z.string().optional(),
    p_input_tokens: int32.optional(),
    p_max_output_tokens: int32.optional(),
    p_idempotency_key: z.string().min(1).max(255).optional(),
    /** A Postgres interval, e.g. '10 minutes' (1 second to 1 day). */
    p_ttl: z.string().optional(),
  })
  .strict()
  .refine((a) => (a.p_amount === undefined) !== (a.p_model === undefined), 'invalid estimate: give p_amount or p_model')
  .refine(
    (a) => a.p_model === undefined || (a.p_input_tokens !== undefined && a.p_max_output_tokens !== undefined),
    'invalid estimate: p_model needs p_input_tokens and p_max_output_tokens',
  );

export const reservation = z.object({
  allowed: z.boolean(),
  reason: z.enum(['daily_credit_limit', 'monthly_credit_limit']).optional(),
  reservation_id: uuid.nullable(),
  amount: numeric,
  status: z.enum(['pending', 'settled', 'voided']).optional(),
  expires_at: z.string().optional(),
  replayed: z.boolean().optional(),
  credits: creditStatus,
});
export type Reservation = z.infer<typeof reservation>;

// ---------------------------------------------------------------------------
// Usage
// ---------------------------------------------------------------------------
/**
 * Arguments of `record_usage` (service role only). Token convention: input
 * includes cached input, output includes reasoning (OpenAI's; for Anthropic
 * pass input_tokens + cache_read_input_tokens as input and the cache reads as cached).
 */
export const recordUsageArgs = z
  .object({
    p_user_id: uuid,
    p_model: z.string().min(1),
    p_input_tokens: int32,
    p_output_tokens: int32,
    p_cached_input_tokens: int32.optional(),
    p_reasoning_tokens: int32.optional(),
    p_conversation_id: uuid.nullable().optional(),
    p_agent_type: z.string().regex(/^[a-z][a-z0-9_]{0,49}$/, 'invalid agent type').optional(),
    p_duration_ms: int32.nullable().optional(),
    p_metadata: z.record(z.string(), z.unknown()).optional(),
    p_idempotency_key: z.string().min(1).max(255).optional(),
    p_reservation_id: uuid.optional(),
  })
  .strict()
  .refine((a) => (a.p_cached_input_tokens ?? 0) <= a.p_input_tokens, 'invalid cached input tokens')
  .refine((a) => (a.p_reasoning_tokens ?? 0) <= a.p_output_tokens, 'invalid reasoning tokens');
export type RecordUsageArgs = z.infer<typeof recordUsageArgs>;

/** A row of `public.usage_logs`, as `record_usage` returns it. */
export const usageLog = z.object({
  id: uuid,
  user_id: uuid,
  conversation_id: uuid.nullable(),
  agent_type: z.string(),
  model_used: z.string(),
  provider: z.string(),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cached_input_tokens: z.number().int(),
  reasoning_tokens: z.number().int(),
  total_tokens: z.number().int(),
  input_cost: numeric,
  output_cost: numeric,
  total_cost: numeric,
  input_price_per_million: numeric,
  output_price_per_million: numeric,
  cached_input_price_per_million: numeric,
  request_timestamp: z.string(),
  response_timestamp: z.string(),
  duration_ms: z.number().int().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  idempotency_key: z.string().nullable(),
  reservation_id: uuid.nullable(),
  created_at: z.string(),
});
export type UsageLog = z.infer<typeof usageLog>;

/** One row of `get_current_user_usage_summary` (seed 002). */
export const usageSummary = z.object({
  total_calls: numeric,
  total_input_tokens: numeric,
  total_output_tokens: numeric,
  total_tokens: numeric,
  total_cost: numeric,
  agent_breakdown: z.record(
    z.string(),
    z.object({
      calls: z.number(),
      input_tokens: z.number(),
      output_tokens: z.number(),
      total_tokens: z.number(),
      total_cost: z.number(),
    }),
  ),
});

/** `get_current_user_daily_usage`: one element per day, zeros included. */
export const dailyUsageSeries = z.array(
  z.object({
    date: z.iso.date(),
    requests: z.number(),
    input_tokens: z.number(),
    output_tokens: z.number(),
    total_tokens: z.number(),
    total_cost: z.number(),
  }),
);

// ---------------------------------------------------------------------------
// Rate limits
// ---------------------------------------------------------------------------
const rateLimitEndpoint = z.string().regex(/^[a-z][a-z0-9_:.-]{0,63}$/, 'invalid endpoint');
const rateLimitCost = z.number().int().min(1).max(1_000_000);

/** Arguments of `check_rate_limit` / `get_rate_limit_status`. */
export const checkRateLimitArgs = z
  .object({
    p_endpoint: rateLimitEndpoint,
    p_cost: rateLimitCost.optional(),
    /** Service role only: the user to check. */
    p_user_id: uuid.optional(),
  })
  .strict();
export type CheckRateLimitArgs = z.infer<typeof checkRateLimitArgs>;

/**
 * The body of `POST /functions/v1/rate-limit` (supabase/functions/rate-limit):
 * check_rate_limit's arguments without the `p_` prefix, the same rules.
 */
export const rateLimitRequest = z
  .object({
    endpoint: rateLimitEndpoint,
    cost: rateLimitCost.optional(),
    /** Service callers only: check on behalf of this user (the SQL enforces it). */
    user_id: uuid.optional(),
  })
  .strict();
export type RateLimitRequest = z.infer<typeof rateLimitRequest>;

/** The RPC arguments for a rate-limit request; what is left out takes the SQL's default. */
export function checkRateLimitArgsFrom(req: RateLimitRequest): CheckRateLimitArgs {
  const args: CheckRateLimitArgs = { p_endpoint: req.endpoint };
  if (req.cost !== undefined) args.p_cost = req.cost;
  if (req.user_id !== undefined) args.p_user_id = req.user_id;
  return args;
}

export const rateLimitWindow = z.object({
  bucket: z.string(),
  limit: z.number().int(),
  window_seconds: z.number().int(),
  remaining: z.number().int(),
  reset_at: z.string(),
  /** Whole seconds: the SQL rounds up. */
  reset_after_seconds: z.number().int(),
  retry_after_seconds: z.number().int().nullable(),
});

/**
 * What `check_rate_limit` returns (and the body of the rate-limit function);
 * the top-level figures are the binding window's, all null when every rule is unlimited.
 */
export const rateLimitResult = z.object({
  allowed: z.boolean(),
  endpoint: z.string(),
  cost: z.number().int(),
  reason: z.enum(['rate_limited', 'cost_exceeds_limit']).nullable(),
  policy: z.string().nullable(),
  limit: z.number().int().nullable(),
  window_seconds: z.number().int().nullable(),
  remaining: z.number().int().nullable(),
  reset_at: z.string().nullable(),
  reset_after_seconds: z.number().int().nullable(),
  retry_after_seconds: z.number().int().nullable(),
  windows: z.array(rateLimitWindow),
});
export type RateLimitResult = z.infer<typeof rateLimitResult>;

// The headers for a result (RateLimit-Policy, RateLimit, X-RateLimit-*,
// Retry-After) live in a module without zod, for functions that need only the names.
export { RateLimitHeader, rateLimitHeaderNames, rateLimitHeaders, type RateLimitHeaderFields } from '../rate-limit-headers.ts';
