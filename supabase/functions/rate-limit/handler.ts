// POST /functions/v1/rate-limit {endpoint, cost?, user_id?}: one call of
// check_rate_limit as the caller (their JWT: the SQL decides who may check
// whom; or the service role for a caller with the secret key in `apikey`),
// answered 200 when allowed and 429 when not, with the limit headers
// of the IETF draft (RateLimit-Policy, RateLimit), the X-RateLimit-* trio and
// Retry-After. Every figure is what the SQL returned; nothing is computed here.
// The request and result schemas and the header builder are the client
// contract's (shared/schemas/usage.ts, shared/rate-limit-headers.ts), the
// definitions clients use; deploy uploads them with the function.
import {
  type CheckRateLimitArgs,
  checkRateLimitArgsFrom,
  rateLimitHeaders,
  rateLimitRequest,
  type RateLimitResult,
} from '../../../shared/schemas/usage.ts';
import { type Caller, createJwtVerifier, requireUserOrService } from '../_shared/auth.ts';
import { anonClient, asUser, serviceClient } from '../_shared/clients.ts';
import type { FunctionEnv } from '../_shared/env.ts';
import { HttpError, fromPostgrest, json, serve, zodDetails } from '../_shared/errors.ts';

/** Decides one check for a verified caller; throws HttpError to answer with an error. */
export type RateLimiter = (caller: Caller, args: CheckRateLimitArgs) => Promise<RateLimitResult>;

/** The limiter of the product: check_rate_limit, as the user (their JWT) or as the service role. */
export function rpcLimiter(env: FunctionEnv): RateLimiter {
  const client = anonClient(env);
  const service = serviceClient(env);
  return async (caller, args) => {
    const { data, error, status } = caller.kind === 'user'
      ? await asUser(client.rpc('check_rate_limit', args), caller.authorization)
      : await service.rpc('check_rate_limit', args);
    if (error) throw fromPostgrest(error, status);
    // Sent as the SQL returned it; tests/usage.test.ts and
    // tests/functions-rate-limit.test.ts parse it with rateLimitResult.
    return data as RateLimitResult;
  };
}

// verify_jwt is off for this function (supabase/config.toml): the caller is
// checked here, before the body is read (_shared/auth.ts). `limiter` is a
// seam for benchmarks/redis.mjs, which measures this handler with a Redis
// limiter beside it; the function itself always uses rpcLimiter.
export function createRateLimitHandler(env: FunctionEnv, { limiter }: { limiter?: RateLimiter } = {}) {
  const check = limiter ?? rpcLimiter(env);
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
    const result = await check(caller, checkRateLimitArgsFrom(parsed.data));
    return json(result, result.allowed ? 200 : 429, rateLimitHeaders(result));
  });
}
