// The HTTP headers of a check_rate_limit result: one definition for the
// rate-limit edge function (supabase/functions/rate-limit, which sends them;
// _shared/cors.ts, which exposes them to browsers) and for clients (which read
// them, or send the same ones from their own servers). No zod here, so a
// function that only needs the header names does not load it;
// ./schemas/usage.ts re-exports all of it next to the result schema.
//
// Imported by Deno with its `.ts` extension and by Node (tsc, vitest) the same
// way (tsconfig.json: allowImportingTsExtensions); `supabase functions deploy`
// uploads it because it follows the imports (docs/functions.md).

/** The fields of check_rate_limit's result the headers use (`RateLimitResult` in ./schemas/usage.ts has them all). */
export interface RateLimitHeaderFields {
  allowed: boolean;
  /** The binding window's bucket, e.g. `chat:60`; null when every rule is unlimited. */
  policy: string | null;
  limit: number | null;
  window_seconds: number | null;
  remaining: number | null;
  /** A timestamptz as JSON, e.g. `2026-05-01T10:00:06.123456+00:00`. */
  reset_at: string | null;
  /** Whole seconds (the SQL rounds up). */
  reset_after_seconds: number | null;
  /** Whole seconds (the SQL rounds up); null unless denied by a window. */
  retry_after_seconds: number | null;
}

/** The header names, as sent (HTTP names are case-insensitive; fetch's Headers.get takes any case). */
export const RateLimitHeader = {
  /** draft-ietf-httpapi-ratelimit-headers: `"<policy>";r=<remaining>;t=<reset_after_seconds>`. */
  rateLimit: 'RateLimit',
  /** draft-ietf-httpapi-ratelimit-headers: `"<policy>";q=<limit>;w=<window_seconds>`. */
  policy: 'RateLimit-Policy',
  /** The de facto trio (GitHub's convention): the limit of the binding window. */
  limit: 'X-RateLimit-Limit',
  remaining: 'X-RateLimit-Remaining',
  /** `reset_at` as Unix seconds (rounded up). */
  reset: 'X-RateLimit-Reset',
  /** RFC 9110 delay-seconds, on a denial only. */
  retryAfter: 'Retry-After',
} as const;

/** Every name above: what a browser must be allowed to read (Access-Control-Expose-Headers). */
export const rateLimitHeaderNames: readonly string[] = Object.values(RateLimitHeader);

/**
 * A timestamp's Unix time in whole seconds, rounded up. Exact for the
 * microseconds Postgres sends: Date keeps milliseconds, so
 * `Math.ceil(Date.parse('…:06.000001+00:00') / 1000)` would say 6, a reset
 * before the real one.
 */
export function unixSecondsCeil(timestamp: string): number {
  const fraction = /\.(\d+)/.exec(timestamp)?.[1] ?? '';
  const whole = Date.parse(timestamp.replace(/\.\d+/, '')) / 1000;
  return /[1-9]/.test(fraction) ? whole + 1 : whole;
}

/**
 * Response headers for a check_rate_limit result. Every figure is the SQL's;
 * nothing is computed except `reset_at` in Unix seconds. No limit headers when
 * every rule is unlimited (limit null); Retry-After only on a denial.
 */
export function rateLimitHeaders(r: RateLimitHeaderFields): Record<string, string> {
  const h: Record<string, string> = {};
  if (r.limit != null && r.remaining != null) {
    const policy = JSON.stringify(r.policy ?? 'default'); // a structured-field string (buckets are plain ASCII)
    if (r.window_seconds != null) h[RateLimitHeader.policy] = `${policy};q=${r.limit};w=${r.window_seconds}`;
    h[RateLimitHeader.rateLimit] = `${policy};r=${r.remaining}${r.reset_after_seconds != null ? `;t=${r.reset_after_seconds}` : ''}`;
    h[RateLimitHeader.limit] = String(r.limit);
    h[RateLimitHeader.remaining] = String(r.remaining);
    if (r.reset_at) h[RateLimitHeader.reset] = String(unixSecondsCeil(r.reset_at));
  }
  if (!r.allowed && r.retry_after_seconds != null) h[RateLimitHeader.retryAfter] = String(r.retry_after_seconds);
  return h;
}
