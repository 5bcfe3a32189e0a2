// Keys and JWTs through the local API gateway: one case per row of the table
// in docs/functions.md ("Keys and JWTs"), each asserting what the row says for
//   - /functions/v1 with verify_jwt = true (the platform's check; a second
//     gateway serving `health` with verify_jwt forced on, since every function
//     of this project turns it off),
//   - /functions/v1 with verify_jwt = false: `health` (public) and
//     `rate-limit` (a user's JWT or the secret key, checked by the function),
//   - /rest/v1 (the role PostgREST runs as, or the gateway's refusal).
// supabase-js where that is what users call; fetch for the raw header shapes.
import { randomUUID } from 'node:crypto';
import { FunctionsHttpError, type SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../local-stack/gateway/server.mjs';
import { localFunctionDefaults, repoRoot } from '../local-stack/lib.mjs';
import { anonClient, apiUrl, bearer, keys, serviceClient, tokenFor, userClient } from './support/api.ts';
import { testDatabase, type TestUser } from './support/db.ts';

const { db, users } = testDatabase(2);
const whoami = `auth_${randomUUID().slice(0, 8)}_whoami`;
let user: TestUser;
let strict: { url: string; close(): Promise<void> };

beforeAll(async () => {
  user = await users.create();
  await db.query(`
    create function public.${whoami}() returns text language sql stable set search_path = '' as $$ select current_user::text $$;
    grant execute on function public.${whoami}() to anon, authenticated, service_role;
    notify pgrst, 'reload schema';`);
  strict = await startApi({
    dbUrl: process.env.SUPABASE_DB_URL!,
    repoRoot,
    keys,
    functionDefaults: localFunctionDefaults,
    onlyFunctions: ['health'],
    verifyJwtOverrides: { health: true },
    log: () => true, // quiet: the refusals these cases provoke are logged by design
  });
}, 60_000);

afterAll(async () => {
  await strict?.close();
  await db.query(`drop function if exists public.${whoami}()`);
});

type Headers = Record<string, string>;
const json = async (res: Response) => ({ status: res.status, body: await res.json().catch(() => null), note: res.headers.get('x-local-gateway-note') });

/** /functions/v1/health on the gateway that has verify_jwt = true for it. */
const verifyJwtOn = async (headers: Headers) => json(await fetch(`${strict.url}/functions/v1/health`, { headers }));
/** /functions/v1/health as configured (verify_jwt = false: public). */
const health = async (headers: Headers) => json(await fetch(`${apiUrl}/functions/v1/health`, { headers }));
/** Which health view a caller gets: 'public' (status per check) or 'details' (a service), else the HTTP status. */
const healthView = async (headers: Headers) => {
  const r = await health(headers);
  if (r.status !== 200) return r.status;
  return 'version' in (r.body as object) ? 'details' : 'public';
};
/** /functions/v1/rate-limit as configured (verify_jwt = false: the function checks). */
const rateLimit = async (headers: Headers, body: Record<string, unknown> = { endpoint: 'chat' }) =>
  json(await fetch(`${apiUrl}/functions/v1/rate-limit`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }));
/** /rest/v1/rpc/<whoami>: the role PostgREST ran as, or the refusal. */
const rest = async (headers: Headers) =>
  json(await fetch(`${apiUrl}/rest/v1/rpc/${whoami}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' }));

const missingAuth = { code: 401, message: 'Missing authorization header' };
const invalidJwt = { code: 401, message: 'Invalid JWT' };

async function invokeStatus(client: SupabaseClient, name: string, options: Parameters<SupabaseClient['functions']['invoke']>[1]) {
  const { data, error } = await client.functions.invoke(name, options);
  return error ? (error as FunctionsHttpError).context.status : (data ? 200 : 0);
}

describe('keys and JWTs: each row of the table in docs/functions.md', () => {
  it('no headers', async () => {
    expect(await verifyJwtOn({})).toMatchObject({ status: 401, body: missingAuth });
    expect(await healthView({})).toBe('public');
    expect(await rateLimit({})).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
    expect(await rest({})).toMatchObject({ status: 401, body: { message: 'No API key found in request' } });
  });

  it('apikey: the publishable key only', async () => {
    const h = { apikey: keys.publishableKey };
    const v = await verifyJwtOn(h);
    expect(v).toMatchObject({ status: 401, body: missingAuth });
    expect(v.note).toMatch(/auth-headers/); // the documents disagree: refused, and said so
    expect(await healthView(h)).toBe('public');
    expect(await rateLimit(h)).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
    expect(await rest(h)).toMatchObject({ status: 200, body: 'anon' });
  });

  it('apikey: the secret key only (a service; supabase-js >= 2.110.4 sends no Authorization with an sb_ key)', async () => {
    const h = { apikey: keys.secretKey };
    expect(await verifyJwtOn(h)).toMatchObject({ status: 401, body: missingAuth });
    expect(await healthView(h)).toBe('details');
    expect(await rateLimit(h, { endpoint: 'chat', user_id: user.id })).toMatchObject({ status: 200, body: { allowed: true } });
    expect(await rest(h)).toMatchObject({ status: 200, body: 'service_role' });
  });

  it('the secret key from a browser (User-Agent Mozilla/...) is refused on /rest/v1', async () => {
    const h = { apikey: keys.secretKey, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0' };
    expect(await rest(h)).toMatchObject({ status: 401, body: { message: 'Forbidden use of secret API key in browser' } });
    expect(await healthView(h)).toBe('details'); // functions do not look at the User-Agent (the table's row)
  });

  it('Authorization: Bearer <publishable key> with the same apikey (supabase-js 2.109 without a session)', async () => {
    const h = { apikey: keys.publishableKey, ...bearer(keys.publishableKey) };
    const v = await verifyJwtOn(h);
    expect(v).toMatchObject({ status: 401, body: invalidJwt });
    expect(v.note).toMatch(/auth-headers/);
    expect(await invokeStatus(anonClient(), 'health', { method: 'GET' })).toBe(200);
    expect(await invokeStatus(anonClient(), 'rate-limit', { body: { endpoint: 'chat' } })).toBe(401);
    expect((await anonClient().rpc(whoami)).data).toBe('anon');
  });

  it('Authorization: Bearer <publishable key> without apikey, or differing from it', async () => {
    expect(await verifyJwtOn(bearer(keys.publishableKey))).toMatchObject({ status: 401, body: invalidJwt });
    expect(await healthView(bearer(keys.publishableKey))).toBe('public');
    expect(await rateLimit(bearer(keys.publishableKey))).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
    expect(await rest(bearer(keys.publishableKey))).toMatchObject({ status: 401, body: { message: 'No API key found in request' } });
    expect(await rest({ apikey: keys.secretKey, ...bearer(keys.publishableKey) })).toMatchObject({ status: 401, body: { message: 'Invalid API key' } });
    // and a secret key in Bearer with only the publishable apikey does not make a service caller
    expect(await rateLimit({ apikey: keys.publishableKey, ...bearer(keys.secretKey) }, { endpoint: 'chat', user_id: user.id }))
      .toMatchObject({ status: 401 });
  });

  it('Authorization: Bearer <secret key> with the same apikey (supabase-js 2.109 with the secret key)', async () => {
    const h = { apikey: keys.secretKey, ...bearer(keys.secretKey) };
    expect(await verifyJwtOn(h)).toMatchObject({ status: 401, body: invalidJwt });
    expect(await healthView(h)).toBe('details');
    expect(await invokeStatus(serviceClient(), 'health', { method: 'GET' })).toBe(200);
    const r = await serviceClient().functions.invoke('rate-limit', { body: { endpoint: 'chat', user_id: user.id } });
    expect(r.error).toBeNull();
    expect(r.data).toMatchObject({ allowed: true });
    expect((await serviceClient().rpc(whoami)).data).toBe('service_role');
  });

  it('Authorization: Bearer <legacy anon JWT> (apikey: the same)', async () => {
    const h = { apikey: keys.anonKey, ...bearer(keys.anonKey) };
    expect((await verifyJwtOn(h)).status).toBe(200);
    expect(await healthView(h)).toBe('public');
    // a valid project JWT, but for nobody: the SQL refuses anon (42501 -> 401)
    expect(await rateLimit(h)).toMatchObject({ status: 401, body: { code: '42501' } });
    expect(await rest(h)).toMatchObject({ status: 200, body: 'anon' });
  });

  it('Authorization: Bearer <legacy service_role JWT> (apikey: the same)', async () => {
    const h = { apikey: keys.serviceRoleKey, ...bearer(keys.serviceRoleKey) };
    expect((await verifyJwtOn(h)).status).toBe(200);
    expect(await healthView(h)).toBe('details');
    expect(await rateLimit(h, { endpoint: 'chat', user_id: user.id })).toMatchObject({ status: 200, body: { allowed: true } });
    expect(await rest(h)).toMatchObject({ status: 200, body: 'service_role' });
  });

  it('Authorization: Bearer <user JWT> with apikey: the publishable key (a signed-in supabase-js client)', async () => {
    const client = await userClient(user);
    const token = await tokenFor(user);
    expect((await verifyJwtOn({ apikey: keys.publishableKey, ...bearer(token) })).status).toBe(200);
    expect(await healthView({ apikey: keys.publishableKey, ...bearer(token) })).toBe('public');
    expect(await invokeStatus(client, 'health', { method: 'GET' })).toBe(200);
    const r = await client.functions.invoke('rate-limit', { body: { endpoint: 'chat' } });
    expect(r.error).toBeNull();
    expect(r.data).toMatchObject({ allowed: true });
    expect((await client.rpc(whoami)).data).toBe('authenticated');
  });

  it('Authorization: Bearer <user JWT> without apikey', async () => {
    const h = bearer(await tokenFor(user));
    expect((await verifyJwtOn(h)).status).toBe(200); // the functions' check reads Authorization only
    expect(await rateLimit(h)).toMatchObject({ status: 200 });
    expect(await rest(h)).toMatchObject({ status: 401, body: { message: 'No API key found in request' } });
  });

  it('an expired user JWT', async () => {
    const h = { apikey: keys.publishableKey, ...bearer(await tokenFor(user, { expired: true })) };
    expect(await verifyJwtOn(h)).toMatchObject({ status: 401, body: invalidJwt });
    expect(await healthView(h)).toBe('public');
    expect(await rateLimit(h)).toMatchObject({ status: 401, body: { code: 'invalid_jwt' } });
    expect(await rest(h)).toMatchObject({ status: 401, body: { code: 'PGRST303', message: 'JWT expired' } });
  });

  it('a JWT signed with another secret, and a token that is not a JWT', async () => {
    const forged = { apikey: keys.publishableKey, ...bearer(await tokenFor(user, { forged: true })) };
    expect(await verifyJwtOn(forged)).toMatchObject({ status: 401, body: invalidJwt });
    expect(await rateLimit(forged)).toMatchObject({ status: 401, body: { code: 'invalid_jwt' } });
    expect(await rest(forged)).toMatchObject({ status: 401, body: { code: 'PGRST301' } });
    const garbage = { apikey: keys.publishableKey, ...bearer('not-a-jwt') };
    expect(await verifyJwtOn(garbage)).toMatchObject({ status: 401, body: invalidJwt });
    expect(await rateLimit(garbage)).toMatchObject({ status: 401, body: { code: 'invalid_jwt' } });
    expect(await rest(garbage)).toMatchObject({ status: 401, body: { code: 'PGRST301' } });
  });

  it('apikey: a value that is none of the project keys', async () => {
    const h = { apikey: 'sb_publishable_not-this-project' };
    expect(await verifyJwtOn(h)).toMatchObject({ status: 401, body: missingAuth });
    expect(await healthView(h)).toBe('public');
    expect(await rateLimit(h)).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
    expect(await rest(h)).toMatchObject({ status: 401, body: { message: 'Invalid API key' } });
  });

  it('a browser preflight (OPTIONS) passes every check', async () => {
    const pre = { origin: 'http://localhost:3000', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, apikey' };
    expect((await fetch(`${strict.url}/functions/v1/health`, { method: 'OPTIONS', headers: pre })).status).toBe(200);
    expect((await fetch(`${apiUrl}/functions/v1/rate-limit`, { method: 'OPTIONS', headers: pre })).status).toBe(200);
    expect((await fetch(`${apiUrl}/rest/v1/rpc/${whoami}`, { method: 'OPTIONS', headers: pre })).status).toBe(200);
  });
});
