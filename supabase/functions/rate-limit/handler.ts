// POST /functions/v1/rate-limit {endpoint, cost?, user_id?}: one call of
// check_rate_limit as the caller (their JWT: the SQL decides who may check
// whom; or the service role for a caller with the secret key in `apikey`),
// answered 200 when allowed and 429 when not, with the limit headers
// of the IETF draft (RateLimit-Policy, RateLimit), the X-RateLimit-* trio and
// Retry-After. Every figure is what the SQL returned; nothing is computed here.
import { z } from 'zod';
import { createJwtVerifier, requireUserOrService } from '../_shared/auth.ts';
import { anonClient, asUser, serviceClient } from '../_shared/clients.ts';
import type { FunctionEnv } from '../_shared/env.ts';
import { HttpError, fromPostgrest, json, serve, zodDetails } from '../_shared/errors.ts';

export const rateLimitRequest = z
  .object({
    endpoint: z.string().min(1).max(64),
    cost: z.number().int().min(1).max(1_000_000).optional(),
    /** Service callers only: check on behalf of this user (the SQL enforces it). */
    user_id: z.string().uuid().optional(),
  })
  .strict();

/** What check_rate_limit returns (the fields the headers use). */
export interface RateLimitResult {
  allowed: boolean;
  policy: string | null;
  limit: number | null;
  window_seconds: number | null;
  remaining: number | null;
  reset_at: string | null;
  reset_after_seconds: number | null;
  retry_after_seconds: number | null;
  [k: string]: unknown;
}

/** Response headers for a check_rate_limit result (draft-ietf-httpapi-ratelimit-headers). */
export function rateLimitHeaders(r: RateLimitResult): Record<string, string> {
  const h: Record<string, string> = {};
  if (r.limit != null && r.remaining != null) {
    const policy = JSON.stringify(r.policy ?? 'default'); // a structured-field string
    if (r.window_seconds != null) h['RateLimit-Policy'] = `${policy};q=${r.limit};w=${r.window_seconds}`;
    h.RateLimit = `${policy};r=${r.remaining}${r.reset_after_seconds != null ? `;t=${r.reset_after_seconds}` : ''}`;
    h['X-RateLimit-Limit'] = String(r.limit);
    h['X-RateLimit-Remaining'] = String(r.remaining);
    if (r.reset_at) h['X-RateLimit-Reset'] = String(Math.ceil(Date.parse(r.reset_at) / 1000));
  }
  if (!r.allowed && r.retry_after_seconds != null) h['Retry-After'] = String(r.retry_after_seconds);
  return h;
}

// verify_jwt is off for this function (supabase/config.toml): the caller is
// checked here, before the body is read (_shared/auth.ts).
export function createRateLimitHandler(env: FunctionEnv) {
  const client = anonClient(env);
  const service = serviceClient(env);
  const verify = createJwtVerifier(env.jwks);
  return serve(async (req) => {
    if (req.method !== 'POST') throw new HttpError(405, 'method_not_allowed', 'use POST', null, { Allow: 'POST, OPTIONS' });
    const caller = await requireUserOrService(req, env, verify);
    let body: unknown;
    try {
      body = await req.json();
    } catch {
      throw new HttpError(400, 'invalid_request', 'the body must be JSON: {endpoint, cost?}');
    }
    const parsed = rateLimitRequest.safeParse(body);
    if (!parsed.success) throw new HttpError(400, 'invalid_request', 'invalid rate-limit request', zodDetails(parsed.error.issues));
    const { endpoint, cost, user_id } = parsed.data;

    const args: Record<string, unknown> = { p_endpoint: endpoint };
    if (cost !== undefined) args.p_cost = cost;
    if (user_id !== undefined) args.p_user_id = user_id;
    const { data, error, status } = caller.kind === 'user'
      ? await asUser(client.rpc('check_rate_limit', args), caller.authorization)
      : await service.rpc('check_rate_limit', args);
    if (error) throw fromPostgrest(error, status);

    const result = data as RateLimitResult;
    return json(result, result.allowed ? 200 : 429, rateLimitHeaders(result));
  });
}
