// Edge functions: their handler modules called directly (vitest imports what
// index.ts serves) and the deployed shape end to end — the functions runtime
// behind the local gateway, called with supabase-js functions.invoke. Both
// reach the database only through RPCs on the API, as on Supabase.
import { randomUUID } from 'node:crypto';
import { FunctionsHttpError } from '@supabase/supabase-js';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anonClient as functionAnonClient, asUser } from '../supabase/functions/_shared/clients.ts';
import { healthStatus } from '../shared/schemas/observability.ts';
import { createHealthHandler } from '../supabase/functions/health/handler.ts';
import { createWebhookHandler, maxBodyBytes } from '../supabase/functions/webhook/handler.ts';
import {
  anonClient, apiUrl, functionEnv, keys, otherJwtSecret, serviceClient, signJwt, tokenFor, userClient, webhookSecret,
} from './support/api.ts';
import { testDatabase, type TestUser } from './support/db.ts';

const { db, users } = testDatabase(4);
const tag = randomUUID().slice(0, 8);
const planId = `plan_${tag}`;

beforeAll(async () => {
  await db.query(`insert into private.provider_plans (provider, provider_plan_id, plan) values ('whop', $1, 'pro')`, [planId]);
});

afterAll(async () => {
  await db.query(`delete from private.webhook_events where webhook_id like $1`, [`msg_${tag}%`]);
  await db.query(`delete from private.provider_payments where payment_id like $1`, [`pay_${tag}%`]);
  await db.query(`delete from private.provider_plans where provider_plan_id = $1`, [planId]);
});

// ---------------------------------------------------------------------------
// _shared
// ---------------------------------------------------------------------------
describe('_shared/clients', () => {
  it('asUser runs one call with the caller\'s token on the shared client; without it the call is anon', async () => {
    const user = await users.create();
    const client = functionAnonClient(functionEnv());
    const mine = await asUser(client.rpc('get_my_profile'), `Bearer ${await tokenFor(user)}`);
    expect(mine.error).toBeNull();
    expect(mine.data).toMatchObject({ id: user.id });
    const anon = await client.rpc('get_my_profile');
    expect(anon.status).toBe(401);
  });
});

// ---------------------------------------------------------------------------
// health
// ---------------------------------------------------------------------------
/** The health request a service makes: the secret key in apikey. */
const asService = (init: RequestInit = {}) => new Request('http://local/health', { ...init, headers: { apikey: keys.secretKey } });

/** Asserts the public health view: status, timestamp, and each check's status, nothing else. */
function expectPublicView(body: Record<string, unknown>) {
  expect(Object.keys(body).sort()).toEqual(['checks', 'status', 'timestamp']);
  for (const check of Object.values(body.checks as Record<string, Record<string, unknown>>)) {
    expect(Object.keys(check)).toEqual(['status']);
  }
}

describe('health', () => {
  it('handler: GET reports the seed 001 shape to a service; healthy exactly when every check is ok; no secrets', async () => {
    const res = await createHealthHandler(functionEnv())(asService());
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(Object.keys(body.checks).sort()).toEqual(['cache', 'database', 'migrations', 'queue', 'scheduled_jobs']);
    expect(body.checks).toMatchObject({ database: { status: 'ok' }, migrations: { status: 'ok' }, cache: { status: 'ok' } });
    // Other test files share this database (queued jobs, cron runs): the
    // degraded cases are pinned down in supabase/tests/060-edge.test.sql.
    const allOk = Object.values(body.checks as Record<string, { status: string }>).every((c) => c.status === 'ok');
    expect(body.status).toBe(allOk ? 'healthy' : 'degraded');
    expect(healthStatus.parse(body.status)).toBe(body.status); // the contract's vocabulary
    expect(typeof body.checks.database.latency_ms).toBe('number');
    expect(new Date(body.timestamp).toString()).not.toBe('Invalid Date');
    expect(body.version).toMatch(/^\d{14}$/); // the latest migration, unless APP_VERSION is set
    const text = JSON.stringify(body);
    for (const secret of [keys.secretKey, keys.serviceRoleKey, keys.jwtSecret, 'postgres:postgres']) expect(text).not.toContain(secret);
  });

  it('handler: anyone else gets the status and each check\'s status only (no version, migration, job names, figures)', async () => {
    const handler = createHealthHandler(functionEnv({ APP_VERSION: '1.2.3' }));
    const user = await users.create();
    const admin = await users.create({ admin: true });
    const callers: Record<string, Record<string, string>> = {
      'no headers': {},
      'the publishable key': { apikey: keys.publishableKey },
      'the legacy anon JWT': { apikey: keys.anonKey, authorization: `Bearer ${keys.anonKey}` },
      'a signed-in user': { apikey: keys.publishableKey, authorization: `Bearer ${await tokenFor(user)}` },
      'an admin user': { apikey: keys.publishableKey, authorization: `Bearer ${await tokenFor(admin)}` },
      'a forged service_role token': { authorization: `Bearer ${await signJwt({ role: 'service_role' }, { secret: otherJwtSecret })}` },
      'a wrong secret key': { apikey: 'sb_secret_not-the-projects-key' },
      'the secret key with another bearer': { apikey: keys.secretKey, authorization: `Bearer ${await tokenFor(user)}` },
    };
    for (const [who, headers] of Object.entries(callers)) {
      const res = await handler(new Request('http://local/health', { headers }));
      expect(res.status, who).toBe(200);
      const body = await res.json();
      expectPublicView(body);
      expect(body.status, who).toMatch(/^(healthy|degraded)$/);
      const text = JSON.stringify(body);
      for (const detail of ['1.2.3', '20261122', 'latency_ms', 'hits', 'ready', 'failing', 'server_version']) expect(text, who).not.toContain(detail);
    }
  });

  it('handler: a service gets the details with the secret key or the legacy service_role JWT', async () => {
    const handler = createHealthHandler(functionEnv());
    const legacy = await handler(new Request('http://local/health', { headers: { apikey: keys.serviceRoleKey, authorization: `Bearer ${keys.serviceRoleKey}` } }));
    expect((await legacy.json()).checks.migrations.latest).toMatch(/^\d{14}$/);
    const both = await handler(new Request('http://local/health', { headers: { apikey: keys.secretKey, authorization: `Bearer ${keys.secretKey}` } }));
    expect((await both.json()).checks.queue).toHaveProperty('ready');
  });

  it('handler: unhealthy (503) when the database cannot be reached; the reason only for a service', async () => {
    const env = { ...functionEnv(), supabaseUrl: 'http://127.0.0.1:9' };
    const res = await createHealthHandler(env)(asService());
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'unhealthy', checks: { database: { status: 'error', message: 'unreachable' } } });
    const anon = await createHealthHandler(env)(new Request('http://local/health'));
    expect(anon.status).toBe(503);
    expect(await anon.json()).toEqual({ status: 'unhealthy', timestamp: expect.any(String), checks: { database: { status: 'error' } } });
  });

  it('handler: APP_VERSION is the version; POST is 405; OPTIONS answers CORS', async () => {
    const handler = createHealthHandler(functionEnv({ APP_VERSION: '1.2.3' }));
    expect((await (await handler(asService())).json()).version).toBe('1.2.3');
    expect((await handler(new Request('http://local/health', { method: 'POST' }))).status).toBe(405);
    const pre = await handler(new Request('http://local/health', { method: 'OPTIONS' }));
    expect(pre.status).toBe(200);
    expect(pre.headers.get('access-control-allow-headers')).toContain('apikey');
  });

  it('end to end: functions.invoke with the publishable key gets the public view; with the secret key, the details', async () => {
    const { data, error } = await anonClient().functions.invoke('health', { method: 'GET' });
    expect(error).toBeNull();
    expect(data.status).toMatch(/^(healthy|degraded)$/);
    expect(data.checks.database).toEqual({ status: 'ok' });
    expectPublicView(data);
    const service = await serviceClient().functions.invoke('health', { method: 'GET' });
    expect(service.error).toBeNull();
    expect(service.data.checks.migrations.latest).toMatch(/^\d{14}$/);
    expect(service.data.version).toMatch(/^\d{14}$/);
  });

  it('end to end: a public probe (verify_jwt = false): answers a request with no headers and one with a bad token', async () => {
    const none = await fetch(`${apiUrl}/functions/v1/health`);
    expect(none.status).toBe(200);
    const body = (await none.json()) as { status: string };
    expect(body.status).toMatch(/^(healthy|degraded)$/);
    expectPublicView(body);
    const bad = await fetch(`${apiUrl}/functions/v1/health`, { headers: { authorization: 'Bearer nope.nope.nope' } });
    expect(bad.status).toBe(200);
    await bad.arrayBuffer();
  });

  it('end to end: a browser preflight passes verify_jwt and gets the CORS headers', async () => {
    const res = await fetch(`${apiUrl}/functions/v1/health`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization, apikey' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
  });

  it('end to end: an unknown function is 404', async () => {
    const res = await fetch(`${apiUrl}/functions/v1/no-such-function`, { headers: { apikey: keys.publishableKey } });
    expect(res.status).toBe(404);
  });
});

// ---------------------------------------------------------------------------
// webhook
// ---------------------------------------------------------------------------
let seq = 0;
const msgId = () => `msg_${tag}_${++seq}`;

function membershipEvent(type: string, user: TestUser, opts: { membershipId?: string; at?: Date; plan?: string } = {}) {
  return {
    id: `evt_${randomUUID()}`,
    api_version: 'v1',
    type,
    timestamp: (opts.at ?? new Date()).toISOString(),
    company_id: 'biz_test',
    data: {
      id: opts.membershipId ?? `mem_${randomUUID()}`,
      status: type === 'membership.activated' ? 'active' : 'canceled',
      user: { id: `user_${tag}`, email: user.email },
      plan: { id: opts.plan ?? planId },
      metadata: { user_id: user.id },
    },
  };
}

/** Signs a raw body the way the provider does (Standard Webhooks). */
function signed(body: string, opts: { id?: string; at?: Date; secret?: string } = {}) {
  const id = opts.id ?? msgId();
  const at = opts.at ?? new Date();
  const signature = new Webhook(opts.secret ?? webhookSecret).sign(id, at, body);
  return {
    id,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
    },
  };
}

const webhook = createWebhookHandler(functionEnv());
const post = (body: string, headers: Record<string, string>, handler = webhook) =>
  handler(new Request('http://local/webhook', { method: 'POST', body, headers }));

const inbox = async (id: string) =>
  (await db.query('select event_type, outcome, outcome_detail, user_id from private.webhook_events where provider = $1 and webhook_id = $2', ['whop', id])).rows;
const membership = async (membershipId: string) =>
  (await db.query('select user_id, valid, entitled_plan, status from private.provider_memberships where provider = $1 and membership_id = $2', ['whop', membershipId])).rows[0];

describe('webhook handler', () => {
  it('membership.activated grants the mapped plan, once', async () => {
    const user = await users.create();
    const event = membershipEvent('membership.activated', user);
    const body = JSON.stringify(event);
    const { id, headers } = signed(body);
    const res = await post(body, headers);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ received: true, duplicate: false, outcome: 'applied' });
    expect(await membership(event.data.id)).toEqual({ user_id: user.id, valid: true, entitled_plan: 'pro', status: 'active' });
    expect(await inbox(id)).toEqual([{ event_type: 'membership.activated', outcome: 'applied', outcome_detail: 'membership valid: plan pro', user_id: user.id }]);

    // the provider retries the same delivery (same webhook-id, new attempt timestamp)
    const again = await post(body, signed(body, { id }).headers);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ duplicate: true, outcome: 'applied' });
    expect(await inbox(id)).toHaveLength(1);
  });

  it('membership.deactivated returns the user to basic; an older activation delivered late is ignored', async () => {
    const user = await users.create();
    const membershipId = `mem_${randomUUID()}`;
    const t = Date.now();
    const on = JSON.stringify(membershipEvent('membership.activated', user, { membershipId, at: new Date(t - 60_000) }));
    const off = JSON.stringify(membershipEvent('membership.deactivated', user, { membershipId, at: new Date(t - 30_000) }));
    expect((await post(on, signed(on).headers)).status).toBe(200);
    expect(await (await post(off, signed(off).headers)).json()).toMatchObject({ outcome: 'applied' });
    expect(await membership(membershipId)).toMatchObject({ valid: false, entitled_plan: 'basic' });

    const late = JSON.stringify(membershipEvent('membership.activated', user, { membershipId, at: new Date(t - 45_000) }));
    expect(await (await post(late, signed(late).headers)).json()).toMatchObject({ outcome: 'ignored' });
    expect(await membership(membershipId)).toMatchObject({ valid: false, entitled_plan: 'basic' });
  });

  it('legacy membership.went_valid ({action, data}) is understood', async () => {
    const user = await users.create();
    const membershipId = `mem_${randomUUID()}`;
    const body = JSON.stringify({ action: 'membership.went_valid', data: { id: membershipId, plan_id: planId, metadata: { user_id: user.id } } });
    expect(await (await post(body, signed(body).headers)).json()).toMatchObject({ outcome: 'applied' });
    expect(await membership(membershipId)).toMatchObject({ user_id: user.id, valid: true, entitled_plan: 'pro' });
  });

  it('payments are recorded; unknown event types are stored and acknowledged', async () => {
    const user = await users.create();
    const paymentId = `pay_${tag}_${randomUUID()}`;
    const pay = JSON.stringify({ type: 'payment.succeeded', timestamp: new Date().toISOString(),
      data: { id: paymentId, total: '19.99', currency: 'usd', user: { email: user.email } } });
    expect(await (await post(pay, signed(pay).headers)).json()).toMatchObject({ outcome: 'applied' });
    const { rows } = await db.query('select user_id, status, amount::text, currency from private.provider_payments where payment_id = $1', [paymentId]);
    expect(rows).toEqual([{ user_id: user.id, status: 'succeeded', amount: '19.9900', currency: 'usd' }]);

    const other = JSON.stringify({ type: 'member.created', data: { id: 'mber_1' } });
    const { id, headers } = signed(other);
    expect(await (await post(other, headers)).json()).toMatchObject({ duplicate: false, outcome: 'stored' });
    expect(await inbox(id)).toMatchObject([{ event_type: 'member.created', outcome: 'stored' }]);
  });

  it('a wrong signature, a stale timestamp or missing headers are 401 and store nothing', async () => {
    const user = await users.create();
    const body = JSON.stringify(membershipEvent('membership.activated', user));
    const wrong = signed(body, { secret: `whsec_${Buffer.from('some other secret entirely!').toString('base64')}` });
    const r1 = await post(body, wrong.headers);
    expect(r1.status).toBe(401);
    expect(await r1.json()).toMatchObject({ code: 'invalid_signature' });

    const stale = signed(body, { at: new Date(Date.now() - 6 * 60_000) });
    expect((await post(body, stale.headers)).status).toBe(401);

    const tampered = signed(body);
    expect((await post(body.replace('membership.activated', 'membership.deactivated'), tampered.headers)).status).toBe(401);

    expect((await post(body, { 'content-type': 'application/json' })).status).toBe(401);
    for (const id of [wrong.id, stale.id, tampered.id]) expect(await inbox(id)).toEqual([]);
  });

  it('accepts the old secret while rotating (several secrets configured)', async () => {
    const newSecret = `whsec_${Buffer.from('the next webhook secret, rotated!').toString('base64')}`;
    const rotating = createWebhookHandler(functionEnv({ WHOP_WEBHOOK_SECRET: `${newSecret} ${webhookSecret}` }));
    const body = JSON.stringify({ type: 'member.created', data: { id: 'mber_2' } });
    expect((await post(body, signed(body).headers, rotating)).status).toBe(200);
    expect((await post(body, signed(body, { secret: newSecret }).headers, rotating)).status).toBe(200);
  });

  it('a malformed payload is 400 and stores nothing', async () => {
    const notJson = signed('{nope');
    expect((await post('{nope', notJson.headers)).status).toBe(400);
    const noType = JSON.stringify({ data: {} });
    const s2 = signed(noType);
    const r2 = await post(noType, s2.headers);
    expect(r2.status).toBe(400);
    expect(await r2.json()).toMatchObject({ code: 'invalid_payload', details: ['type: type (or legacy action) is required'] });
    const noId = JSON.stringify({ type: 'membership.activated', data: { plan: { id: planId } } });
    const s3 = signed(noId);
    const r3 = await post(noId, s3.headers);
    expect(r3.status).toBe(400);
    expect(await r3.json()).toMatchObject({ message: 'invalid webhook payload: membership event without data.id' });
    for (const id of [notJson.id, s2.id, s3.id]) expect(await inbox(id)).toEqual([]);
  });

  it('every malformed but signed input is 400 and stores nothing: headers, JSON, fields, amounts, times', async () => {
    const payment = (data: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ type: 'payment.succeeded', ...extra, data: { id: `pay_${tag}_${randomUUID()}`, currency: 'usd', ...data } });
    let nested: unknown = 'leaf';
    for (let i = 0; i < 40; i++) nested = { n: nested };
    const cases: Record<string, { body: string; headers?: (h: Record<string, string>) => Record<string, string> }> = {
      'a timestamp header with trailing junk (parseInt accepts it)': {
        body: JSON.stringify({ action: 'member.created', data: { id: 'mber_j' } }),
        headers: (h) => ({ ...h, 'webhook-timestamp': `${h['webhook-timestamp']}junk` }),
      },
      'a NaN amount': { body: payment({ total: 'NaN' }) },
      'an infinite amount': { body: payment({ total: 'Infinity' }) },
      'a negative amount': { body: payment({ total: '-5' }) },
      'an amount beyond the column': { body: payment({ total: '1e12' }) },
      'an amount that is an object': { body: payment({ total: { value: 1 } }) },
      'an amount JSON.parse cannot hold (1e400)': { body: payment({ total: 1 }).replace('"total":1', '"total":1e400') },
      'a currency that is not a code': { body: payment({ total: '1', currency: 'dollars' }) },
      'an event time in the year 9999': { body: payment({ total: '1' }, { timestamp: '9999-01-01T00:00:00Z' }) },
      'an event time years back': { body: payment({ total: '1' }, { timestamp: '2001-01-01T00:00:00Z' }) },
      'an event time that is no date': { body: payment({ total: '1' }, { timestamp: '2026-02-30T00:00:00Z' }) },
      'a membership id that is an array': { body: JSON.stringify({ type: 'membership.activated', data: { id: ['mem'] } }) },
      'a status of 500 characters': { body: JSON.stringify({ type: 'membership.activated', data: { id: 'mem_s', status: 's'.repeat(500) } }) },
      'JSON nested 40 deep': { body: JSON.stringify({ type: 'member.created', data: { nested } }) },
      'a body that is JSON but no object': { body: '[1, 2, 3]' },
    };
    for (const [what, c] of Object.entries(cases)) {
      const { id, headers } = signed(c.body);
      const res = await post(c.body, c.headers ? c.headers(headers) : headers);
      expect(res.status, what).toBe(400);
      expect(await res.json(), what).toMatchObject({ code: 'invalid_payload' });
      expect(await inbox(id), what).toEqual([]);
    }
    // a webhook id the provider would never send, signed as it came
    const body = JSON.stringify({ type: 'member.created', data: { id: 'mber_i' } });
    for (const id of ['x'.repeat(201), 'msg with spaces']) {
      const res = await post(body, signed(body, { id }).headers);
      expect(res.status, id).toBe(400);
    }
  });

  it('a body over 256 KB is 413 before any verification', async () => {
    const body = JSON.stringify({ type: 'member.created', data: { blob: 'x'.repeat(maxBodyBytes) } });
    const res = await post(body, signed(body).headers);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'payload_too_large' });
  });

  it('an email matches only a confirmed account: a squatter who registered the payer\'s address gets nothing', async () => {
    const squatter = await users.create();
    await db.query('update auth.users set email_confirmed_at = null where id = $1', [squatter.id]);
    const event = membershipEvent('membership.activated', squatter);
    const byEmail = JSON.stringify({ ...event, data: { ...event.data, metadata: {} } });
    const res = await post(byEmail, signed(byEmail).headers);
    expect(await res.json()).toMatchObject({ outcome: 'ignored' });
    const { rows } = await db.query('select plan_name from public.user_plans where user_id = $1', [squatter.id]);
    expect(rows.filter((r) => r.plan_name !== 'basic')).toEqual([]);
    expect(await membership(event.data.id)).toBeUndefined();

    // with our user id in the provider's metadata (set at checkout), the account itself is named
    const byId = JSON.stringify(membershipEvent('membership.activated', squatter));
    expect(await (await post(byId, signed(byId).headers)).json()).toMatchObject({ outcome: 'applied' });
  });

  it('GET is 405', async () => {
    expect((await webhook(new Request('http://local/webhook'))).status).toBe(405);
  });
});

describe('webhook end to end (functions.invoke through the gateway)', () => {
  it('verify_jwt = false: the provider calls without any key', async () => {
    const user = await users.create();
    const event = membershipEvent('membership.activated', user);
    const body = JSON.stringify(event);
    const res = await fetch(`${apiUrl}/functions/v1/webhook`, { method: 'POST', body, headers: signed(body).headers });
    expect(res.status).toBe(200);
    expect(await membership(event.data.id)).toMatchObject({ entitled_plan: 'pro', valid: true });
    const { rows } = await db.query('select plan_name from public.user_plans where user_id = $1', [user.id]);
    expect(rows).toEqual([{ plan_name: 'pro' }]);
  });

  it('functions.invoke: valid, replayed, wrong signature, invalid input', async () => {
    const client = anonClient();
    const user = await users.create();
    const body = JSON.stringify(membershipEvent('membership.activated', user));
    const { id, headers } = signed(body);
    const first = await client.functions.invoke('webhook', { body, headers });
    expect(first.error).toBeNull();
    expect(first.data).toMatchObject({ duplicate: false, outcome: 'applied' });
    const replay = await client.functions.invoke('webhook', { body, headers });
    expect(replay.data).toMatchObject({ duplicate: true });

    const forged = await client.functions.invoke('webhook', { body, headers: { ...headers, 'webhook-signature': 'v1,AAAA' } });
    expect(forged.error).toBeInstanceOf(FunctionsHttpError);
    expect((forged.error as FunctionsHttpError).context.status).toBe(401);

    const invalid = '{"data": 1}';
    const bad = await client.functions.invoke('webhook', { body: invalid, headers: signed(invalid).headers });
    expect((bad.error as FunctionsHttpError).context.status).toBe(400);
    expect(await inbox(id)).toHaveLength(1);
  });

  it('concurrent duplicate deliveries have exactly one effect', async () => {
    const user = await users.create();
    const event = membershipEvent('membership.activated', user);
    const body = JSON.stringify(event);
    const { id, headers } = signed(body);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => fetch(`${apiUrl}/functions/v1/webhook`, { method: 'POST', body, headers }).then((r) => r.json())),
    );
    expect(results.filter((r) => r.duplicate === false)).toHaveLength(1);
    expect(results.filter((r) => r.duplicate === true)).toHaveLength(7);
    expect(await inbox(id)).toHaveLength(1);
    const { rows } = await db.query('select count(*)::int as n from private.provider_memberships where membership_id = $1', [event.data.id]);
    expect(rows[0].n).toBe(1);
  });

  it('a signed-in user gets no further than anyone else: the signature decides', async () => {
    const user = await users.create();
    const client = await userClient(user);
    const body = JSON.stringify(membershipEvent('membership.activated', user));
    const { error } = await client.functions.invoke('webhook', { body, headers: { 'webhook-id': msgId(), 'webhook-timestamp': '1', 'webhook-signature': 'v1,x' } });
    expect((error as FunctionsHttpError).context.status).toBe(401);
  });
});

describe('provider plan mapping end to end (admin RPCs, then signed webhooks through the functions runtime)', () => {
  const proPlan = `plan_${tag}_map_pro`;
  const enterprisePlan = `plan_${tag}_map_ent`;
  const deliver = async (event: ReturnType<typeof membershipEvent>) => {
    const body = JSON.stringify(event);
    const res = await fetch(`${apiUrl}/functions/v1/webhook`, { method: 'POST', body, headers: signed(body).headers });
    expect(res.status).toBe(200);
    return res.json();
  };
  const planOf = async (user: TestUser) =>
    (await db.query('select plan_name from public.user_plans where user_id = $1', [user.id])).rows[0]?.plan_name;

  afterAll(async () => {
    await db.query('delete from private.provider_plans where provider_plan_id = any($1)', [[proPlan, enterprisePlan]]);
  });

  it('an unmapped plan is ignored; once an admin maps it, activation grants it and a plan change moves the user', async () => {
    const admin = await userClient(await users.create({ admin: true }));
    const user = await users.create();
    const membershipId = `mem_${randomUUID()}`;
    const t = Date.now();

    const unmapped = await deliver(membershipEvent('membership.activated', user, { membershipId, plan: proPlan, at: new Date(t - 90_000) }));
    expect(unmapped).toMatchObject({ outcome: 'ignored', detail: `plan ${proPlan} is not mapped in private.provider_plans` });
    expect(await planOf(user)).not.toBe('pro');

    const mapped = await admin.rpc('set_provider_plan', { p_provider: 'whop', p_provider_plan_id: proPlan, p_plan: 'pro' });
    expect(mapped.error).toBeNull();
    expect(mapped.data).toMatchObject([{ provider: 'whop', provider_plan_id: proPlan, plan: 'pro' }]);
    expect((await admin.rpc('set_provider_plan', { p_provider: 'whop', p_provider_plan_id: enterprisePlan, p_plan: 'enterprise' })).error).toBeNull();
    const listed = await admin.rpc('list_provider_plans', { p_provider: 'whop' });
    expect(listed.data).toEqual(expect.arrayContaining([
      expect.objectContaining({ provider_plan_id: proPlan, plan: 'pro' }),
      expect.objectContaining({ provider_plan_id: enterprisePlan, plan: 'enterprise' }),
    ]));

    const activated = await deliver(membershipEvent('membership.activated', user, { membershipId, plan: proPlan, at: new Date(t - 60_000) }));
    expect(activated).toMatchObject({ outcome: 'applied', detail: 'membership valid: plan pro' });
    expect(await planOf(user)).toBe('pro');

    const upgraded = await deliver(membershipEvent('membership.activated', user, { membershipId, plan: enterprisePlan, at: new Date(t - 30_000) }));
    expect(upgraded).toMatchObject({ outcome: 'applied', detail: 'membership valid: plan enterprise' });
    expect(await planOf(user)).toBe('enterprise');
    expect(await membership(membershipId)).toMatchObject({ user_id: user.id, valid: true, entitled_plan: 'enterprise' });

    const { rows } = await db.query(
      `select actor_identifier, action from public.system_audit_logs
        where resource_type = 'private.provider_plans' and new_values ->> 'provider_plan_id' = any($1) order by created_at`,
      [[proPlan, enterprisePlan]]);
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.action === 'insert')).toBe(true);
  });

  it('a signed-in user who is not an admin cannot map a plan to grant themselves one', async () => {
    const user = await users.create();
    const client = await userClient(user);
    const { data, error } = await client.rpc('set_provider_plan', { p_provider: 'whop', p_provider_plan_id: `plan_${tag}_self`, p_plan: 'enterprise' });
    expect(data).toBeNull();
    expect(error).toMatchObject({ code: '42501', message: 'only admins may map provider plans' });
    const { rows } = await db.query('select count(*)::int as n from private.provider_plans where provider_plan_id = $1', [`plan_${tag}_self`]);
    expect(rows[0].n).toBe(0);
  });
});
