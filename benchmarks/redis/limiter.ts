// The Redis limiter the benchmark puts into the rate-limit function through
// its seam (createRateLimitHandler(env, { limiter })): GCRA in Lua
// (scripts.mjs) by EVALSHA on one connection, with one fixed rule for every
// endpoint and user — what a Redis limiter usually has. It answers with the
// same result shape as check_rate_limit, so the handler sends the same
// headers. Bench only: the product's function uses check_rate_limit.
import type { CheckRateLimitArgs, RateLimitResult } from '../../shared/schemas/usage.ts';
import type { Caller } from '../../supabase/functions/_shared/auth.ts';
import { HttpError } from '../../supabase/functions/_shared/errors.ts';
import type { RateLimiter } from '../../supabase/functions/rate-limit/handler.ts';
import { connectRedis } from './resp.ts';
import { gcraLua } from './scripts.mjs';

export interface RedisRule {
  limit: number;
  windowSeconds: number;
}

function userOf(caller: Caller, args: CheckRateLimitArgs): string {
  if (caller.kind === 'service') {
    if (!args.p_user_id) throw new HttpError(400, 'invalid_request', 'the service role checks for a user: send user_id');
    return args.p_user_id;
  }
  const sub = caller.claims?.sub;
  if (caller.claims?.role !== 'authenticated' || typeof sub !== 'string') throw new HttpError(401, 'unauthorized', 'sign in');
  if (args.p_user_id && args.p_user_id !== sub) throw new HttpError(403, 'forbidden', 'only the service role may check another user');
  return sub;
}

export async function redisLimiter(port: number, rule: RedisRule): Promise<RateLimiter> {
  const redis = await connectRedis(port);
  const sha = String(await redis.send(['SCRIPT', 'LOAD', gcraLua]));
  const windowMs = rule.windowSeconds * 1000;
  return async (caller, args) => {
    const user = userOf(caller, args);
    const cost = args.p_cost ?? 1;
    const policy = `${args.p_endpoint}:${rule.windowSeconds}`;
    const [allowed, remaining, resetMs, retryMs] = cost > rule.limit
      ? [0, rule.limit, 0, -1]
      : (await redis.send(['EVALSHA', sha, 1, `rl:${user}:${policy}`, rule.limit, windowMs, cost])) as number[];
    const window = {
      bucket: policy,
      limit: rule.limit,
      window_seconds: rule.windowSeconds,
      remaining: remaining!,
      reset_at: new Date(Date.now() + resetMs!).toISOString(),
      reset_after_seconds: Math.ceil(resetMs! / 1000),
      retry_after_seconds: retryMs! < 0 ? null : Math.ceil(retryMs! / 1000),
    };
    const result: RateLimitResult = {
      allowed: allowed === 1,
      endpoint: args.p_endpoint,
      cost,
      reason: allowed === 1 ? null : cost > rule.limit ? 'cost_exceeds_limit' : 'rate_limited',
      policy,
      limit: window.limit,
      window_seconds: window.window_seconds,
      remaining: window.remaining,
      reset_at: window.reset_at,
      reset_after_seconds: window.reset_after_seconds,
      retry_after_seconds: window.retry_after_seconds,
      windows: [window],
    };
    return result;
  };
}
