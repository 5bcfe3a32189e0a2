// The rate-limit function over the usage domain's check_rate_limit: the
// handler and the deployed shape through the gateway, against the real SQL.
import { FunctionsHttpError } from '@supabase/supabase-js';
import { describe, expect, it } from 'vitest';
import { corsHeaders } from '../supabase/functions/_shared/cors.ts';
import { createRateLimitHandler } from '../supabase/functions/rate-limit/handler.ts';
import { rateLimitHeaderNames, rateLimitHeaders } from '../shared/rate-limit-headers.ts';
import { rateLimitResult, type RateLimitResult } from '../shared/schemas/usage.ts';
import { anonClient, apiUrl, bearer, functionEnv, keys, serviceClient, tokenFor, userClient } from './support/api.ts';
import { testDatabase, type TestUser } from './support/db.ts';

const { db, users } = testDatabase(4);
const endpoint = 'chat';


const handler = createRateLimitHandler(functionEnv());
const call = async (user: TestUser | null, body: unknown) =>
  handler(new Request('http://local/rate-limit', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(user ? bearer(await tokenFor(user)) : {}) },
    body: JSON.stringify(body),
  }));

describe('rateLimitHeaders (pure formatting of the SQL result)', () => {
  it('writes the IETF draft fields and the X-RateLimit trio from the result, Retry-After only when denied', () => {
    const r: RateLimitResult = {
      allowed: false, endpoint: 'chat', cost: 1, reason: 'rate_limited', policy: 'chat:minute', limit: 10, window_seconds: 60, remaining: 0,
      reset_at: '2026-11-22T00:01:00Z', reset_after_seconds: 42, retry_after_seconds: 6, windows: [],
    };
    expect(rateLimitHeaders(r)).toEqual({
      'RateLimit-Policy': '"chat:minute";q=10;w=60',
      RateLimit: '"chat:minute";r=0;t=42',
      'X-RateLimit-Limit': '10',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': String(Date.parse('2026-11-22T00:01:00Z') / 1000),
      'Retry-After': '6',
    });
    expect(rateLimitHeaders({ ...r, allowed: true, remaining: 3, retry_after_seconds: null })['Retry-After']).toBeUndefined();
    // every rule unlimited: no limit headers at all
    expect(rateLimitHeaders({ ...r, allowed: true, policy: null, limit: null, window_seconds: null, remaining: null, reset_at: null, reset_after_seconds: null, retry_after_seconds: null })).toEqual({});
  });

  it('reads microsecond timestamps as the SQL sends them, and browsers may read every header it writes', () => {
    const h = rateLimitHeaders({
      allowed: true, policy: 'chat:60', limit: 10, window_seconds: 60, remaining: 9,
      reset_at: '2026-11-22T00:00:06.000001+00:00', reset_after_seconds: 7, retry_after_seconds: null,
    });
    expect(h['X-RateLimit-Reset']).toBe(String(Date.parse('2026-11-22T00:00:07Z') / 1000));
    const exposed = corsHeaders['Access-Control-Expose-Headers']!.split(', ');
    expect(exposed).toEqual([...rateLimitHeaderNames]);
    for (const name of Object.keys({ ...h, 'Retry-After': '1' })) expect(exposed).toContain(name);
  });
});

describe('rate-limit function', () => {
  it('allowed: 200 with headers that repeat what the SQL returned', async () => {
    const res = await call(await users.create(), { endpoint });
    expect(res.status).toBe(200);
    const body = rateLimitResult.parse(await res.json()); // the body is the contract's result
    expect(body.allowed).toBe(true);
    expect(res.headers.get('x-ratelimit-limit')).toBe(String(body.limit));
    expect(res.headers.get('x-ratelimit-remaining')).toBe(String(body.remaining));
    expect(res.headers.get('ratelimit')).toBe(`"${body.policy}";r=${body.remaining};t=${body.reset_after_seconds}`);
  });

  it('exactly the remaining calls pass under concurrency, then 429 with Retry-After', async () => {
    const user = await users.create();
    const t0 = Date.now();
    const first = (await (await call(user, { endpoint })).json()) as RateLimitResult;
    const left = Number(first.remaining);
    const results = await Promise.all(Array.from({ length: left + 5 }, () => call(user, { endpoint })));
    // GCRA hands back one call every window/limit seconds: on a slow machine
    // the burst may straddle that, so count what time could have added.
    const step = Number(first.window_seconds) / Number(first.limit);
    const refills = Math.floor((Date.now() - t0) / 1000 / step);
    const allowed = results.filter((r) => r.status === 200).length;
    expect(allowed).toBeGreaterThanOrEqual(left);
    expect(allowed).toBeLessThanOrEqual(left + refills);
    const denied = results.filter((r) => r.status === 429);
    expect(denied.length).toBe(left + 5 - allowed);
    const body = rateLimitResult.parse(await denied[0]!.json());
    expect(body.allowed).toBe(false);
    expect(denied[0]!.headers.get('retry-after')).toBe(String(body.retry_after_seconds));
    expect(Number(body.retry_after_seconds)).toBeGreaterThan(0);
  });

  it('invalid input is 400 (zod, and the SQL for an unknown endpoint); no token is 401', async () => {
    const user = await users.create();
    expect((await call(user, {})).status).toBe(400);
    // the endpoint rule is the contract's (the SQL's): checked before the RPC
    const malformed = await call(user, { endpoint: 'Chat' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: 'invalid_request', details: ['endpoint: invalid endpoint'] });
    expect((await call(user, { endpoint, cost: 0 })).status).toBe(400);
    expect((await call(user, { endpoint, extra: 1 })).status).toBe(400);
    const unknown = await call(user, { endpoint: 'no_such_endpoint' });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ code: '22023' });
    expect((await call(null, { endpoint })).status).toBe(401);
  });

  it('end to end: a user via functions.invoke; anon is 401; only the service role checks for someone else', async () => {
    const user = await users.create();
    const other = await users.create();
    const client = await userClient(user);
    const ok = await client.functions.invoke('rate-limit', { body: { endpoint } });
    expect(ok.error).toBeNull();
    expect(ok.data).toMatchObject({ allowed: true });

    const anon = await anonClient().functions.invoke('rate-limit', { body: { endpoint } });
    expect((anon.error as FunctionsHttpError).context.status).toBe(401);
    const none = await fetch(`${apiUrl}/functions/v1/rate-limit`, { method: 'POST', body: JSON.stringify({ endpoint }) });
    expect(none.status).toBe(401);

    const forOther = await client.functions.invoke('rate-limit', { body: { endpoint, user_id: other.id } });
    expect((forOther.error as FunctionsHttpError).context.status).toBe(403);
    const service = await serviceClient().functions.invoke('rate-limit', { body: { endpoint, user_id: other.id } });
    expect(service.error).toBeNull();
    expect(service.data).toMatchObject({ allowed: true });
    expect(keys.secretKey).toMatch(/^sb_secret_/);
  });

  it('handler: the caller is checked before the body; a service needs a secret key in apikey', async () => {
    const user = await users.create();
    const post = (headers: Record<string, string>, body: unknown = { endpoint }) =>
      handler(new Request('http://local/rate-limit', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }));
    // no caller: 401 even for a body that is not JSON
    expect((await handler(new Request('http://local/rate-limit', { method: 'POST', body: '{nope' }))).status).toBe(401);
    expect((await post({ apikey: keys.secretKey }, { endpoint, user_id: user.id })).status).toBe(200);
    expect((await post({ apikey: keys.secretKey, authorization: `Bearer ${keys.secretKey}` }, { endpoint, user_id: user.id })).status).toBe(200);
    expect((await post({ apikey: `${keys.secretKey}x` }, { endpoint, user_id: user.id })).status).toBe(401);
    expect((await post({ apikey: keys.publishableKey, authorization: `Bearer ${keys.publishableKey}` })).status).toBe(401);
  });

  it('handler: without a key for the token in SUPABASE_JWKS the token goes to PostgREST, which still refuses a bad one', async () => {
    const user = await users.create();
    const bare = createRateLimitHandler(functionEnv({ SUPABASE_JWKS: '{"keys":[]}' }));
    const post = async (token: string) =>
      bare(new Request('http://local/rate-limit', { method: 'POST', headers: bearer(token), body: JSON.stringify({ endpoint }) }));
    expect((await post(await tokenFor(user))).status).toBe(200);
    const expired = await post(await tokenFor(user, { expired: true }));
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({ code: 'PGRST303' });
    // with the key (the local SUPABASE_JWKS), the function refuses it itself
    const own = await call(null, { endpoint });
    expect(own.status).toBe(401);
    const mine = await handler(new Request('http://local/rate-limit', {
      method: 'POST', headers: bearer(await tokenFor(user, { expired: true })), body: JSON.stringify({ endpoint }),
    }));
    expect(await mine.json()).toMatchObject({ code: 'invalid_jwt' });
  });
});

