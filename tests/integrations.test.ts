// Integrations under real concurrency (parallel connections, exact counts),
// and the zod contract against the SQL checks.
import { describe, expect, it } from 'vitest';
import { SqlState } from '../shared/errors.ts';
import { createTransactionArgs, findNearbyLocationsArgs, setUserApiKeyArgs } from '../shared/schemas/integrations.ts';
import { userClient } from './support/api.ts';
import { expectZodAgreesWithSql } from './support/contract.ts';
import { asAnon, asRole, asUser, expectRaceWinners, serviceClaims, testDatabase, type TestUser } from './support/db.ts';

// The local stack has no Vault: the API-key encryption key comes from this
// setting, given to every connection of the pool (as an operator would set it
// on the database). On a stack with Vault, Vault's secret is used instead.
const encryptionKey = 'vitest-only-key-0123456789abcdef0123456789';
const { db, users } = testDatabase(24, { settings: { 'app.user_api_keys_encryption_key': encryptionKey } });

// the claims of the legacy service_role key, which carry its issuer
const service = { ...serviceClaims, iss: 'supabase-demo' };

async function fund(user: TestUser, amount: number, currency = 'USD'): Promise<void> {
  const { rows } = await asRole(db, service, 'select id from public.create_transaction($1, $2, $3, $4, null)', [
    user.id, 'credit', amount, currency,
  ]);
  await asRole(db, service, `select public.update_transaction_status($1, 'completed')`, [rows[0]!.id]);
}

async function balance(user: TestUser, currency = 'USD'): Promise<number> {
  const { rows } = await db.query('select balance from public.account_balances where user_id = $1 and currency = $2', [user.id, currency]);
  return rows.length ? Number(rows[0].balance) : 0;
}

describe('create_transaction idempotency', () => {
  it('turns 20 racing identical requests into one transaction and one event', async () => {
    const user = await users.create();
    const key = `race-${user.id}`;
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        asUser(db, user, `select id from public.create_transaction($1, 'credit', 12.5, 'EUR', $2)`, [user.id, key]),
      ),
    );
    const ids = new Set(results.map((r) => r.rows[0]!.id));
    expect(ids.size).toBe(1);
    const { rows } = await db.query(
      `select (select count(*)::int from public.transactions where user_id = $1) as tx,
              (select count(*)::int from public.transaction_events where user_id = $1) as ev`,
      [user.id],
    );
    expect(rows[0]).toEqual({ tx: 1, ev: 1 });
  });

  it('holds a racing debit once, however many identical requests arrive', async () => {
    const user = await users.create();
    await fund(user, 100);
    const results = await Promise.all(
      Array.from({ length: 16 }, () =>
        asUser(db, user, `select id from public.create_transaction($1, 'debit', 40, 'USD', 'checkout-1')`, [user.id]),
      ),
    );
    expect(new Set(results.map((r) => r.rows[0]!.id)).size).toBe(1);
    expect(await balance(user)).toBe(60);
  });

  it('lets exactly one of racing requests with the same key and different amounts win', async () => {
    const user = await users.create();
    await expectRaceWinners(
      Array.from({ length: 12 }, (_, i) =>
        asRole(db, service, `select id, amount from public.create_transaction($1, 'credit', $2, 'USD', 'mixed')`, [user.id, i + 1]),
      ),
      1,
      'PT409',
      'idempotency key "mixed" was already used with different parameters',
    );
    const { rows } = await db.query('select count(*)::int as n from public.transactions where user_id = $1', [user.id]);
    expect(rows[0].n).toBe(1);
  });

  it('rejects a forged user id with 42501 and writes nothing', async () => {
    const [user, victim] = [await users.create(), await users.create()];
    await expect(
      asUser(db, user, `select public.create_transaction($1, 'credit', 10, 'USD', 'forged')`, [victim.id]),
    ).rejects.toMatchObject({ code: SqlState.insufficientPrivilege, message: 'p_user_id must be your own user id' });
    const { rows } = await db.query('select count(*)::int as n from public.transactions where user_id = any($1)', [[user.id, victim.id]]);
    expect(rows[0].n).toBe(0);
  });

  it('is refused to anon', async () => {
    const user = await users.create();
    await expect(asAnon(db, `select public.create_transaction($1, 'credit', 1, 'USD', null)`, [user.id])).rejects.toMatchObject({
      code: SqlState.insufficientPrivilege,
    });
  });
});

describe('balances under concurrency', () => {
  it('never go negative: of 30 parallel debits of 10 against 100, exactly 10 succeed', async () => {
    const user = await users.create();
    await fund(user, 100);
    await expectRaceWinners(
      Array.from({ length: 30 }, () => asUser(db, user, `select id from public.create_transaction($1, 'debit', 10, 'USD', null)`, [user.id])),
      10,
      'PT409',
      'insufficient funds: the USD balance is below 10',
    );
    expect(await balance(user)).toBe(0);
    const { rows } = await db.query(`select count(*)::int as n from public.transactions where user_id = $1 and type = 'debit'`, [user.id]);
    expect(rows[0].n).toBe(10);
  });

  it('credit a completed transaction once when the completion races', async () => {
    const user = await users.create();
    const { rows } = await asRole(db, service, `select id from public.create_transaction($1, 'credit', 25, 'USD', null)`, [user.id]);
    const id = rows[0]!.id;
    await Promise.all(
      Array.from({ length: 12 }, () => asRole(db, service, `select public.update_transaction_status($1, 'completed')`, [id])),
    );
    expect(await balance(user)).toBe(25);
    const ev = await db.query(`select count(*)::int as n from public.transaction_events where transaction_id = $1 and to_status = 'completed'`, [id]);
    expect(ev.rows[0].n).toBe(1);
  });

  it('never release a hold twice when a cancel and a failure race', async () => {
    const user = await users.create();
    await fund(user, 50);
    const { rows } = await asUser(db, user, `select id from public.create_transaction($1, 'debit', 50, 'USD', null)`, [user.id]);
    const id = rows[0]!.id;
    const results = await Promise.allSettled([
      ...Array.from({ length: 5 }, () => asUser(db, user, `select public.update_transaction_status($1, 'cancelled')`, [id])),
      ...Array.from({ length: 5 }, () => asRole(db, service, `select public.update_transaction_status($1, 'failed')`, [id])),
    ]);
    for (const r of results) if (r.status === 'rejected') expect(r.reason.code).toBe('PT409');
    expect(await balance(user)).toBe(50);
  });
});

describe('notification claims', () => {
  it('hand each due notification to exactly one of several parallel senders', async () => {
    const user = await users.create();
    await db.query(
      `insert into public.notifications (user_id, channel, body, priority)
       select $1, 'push', 'n' || g, 1 + g % 10 from generate_series(1, 60) as g`,
      [user.id],
    );
    const batches = await Promise.all(
      Array.from({ length: 6 }, () =>
        asRole(db, service, `select id, user_id from public.claim_notifications('push', 15, 60, now())`),
      ),
    );
    const all = batches.flatMap((b) => b.rows.map((r) => r.id));
    expect(new Set(all).size).toBe(all.length); // nobody got a notification twice
    const mine = batches.flatMap((b) => b.rows).filter((r) => r.user_id === user.id);
    expect(mine).toHaveLength(60); // 6 x 15 slots: every one of the 60 was handed out
    const { rows } = await db.query(`select count(*)::int as n from public.notifications where user_id = $1 and status = 'sending' and attempts = 1`, [user.id]);
    expect(rows[0].n).toBe(60);
  });
});

describe('user API keys', () => {
  it("are never readable in plaintext by the owner's client", async () => {
    const user = await users.create();
    const secret = `sk-test-${user.id.replaceAll('-', '')}`;
    const set = await asUser(db, user, 'select * from public.set_user_api_key($1, $2)', ['openai', secret]);
    expect(JSON.stringify(set.rows)).not.toContain(secret.slice(0, -4));
    const listed = await asUser(db, user, 'select * from public.user_api_keys');
    expect(listed.rows).toHaveLength(1);
    expect(listed.rows[0]!.key_hint).toBe(`...${secret.slice(-4)}`);
    expect(JSON.stringify(listed.rows)).not.toContain(secret.slice(0, -4));
    await expect(asUser(db, user, 'select public.get_user_api_key($1, $2)', [user.id, 'openai'])).rejects.toMatchObject({
      code: SqlState.insufficientPrivilege,
    });
    await expect(asUser(db, user, 'select * from private.user_api_key_secrets')).rejects.toMatchObject({
      code: SqlState.insufficientPrivilege,
    });
    const plain = await asRole(db, service, 'select public.get_user_api_key($1, $2) as key', [user.id, 'openai']);
    expect(plain.rows[0]!.key).toBe(secret);
  });

  it('keep one row per user and service when set in parallel', async () => {
    const user = await users.create();
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => asUser(db, user, 'select public.set_user_api_key($1, $2)', ['anthropic', `sk-ant-parallel-${i}`])),
    );
    const { rows } = await db.query(
      `select (select count(*)::int from public.user_api_keys where user_id = $1) as keys,
              (select count(*)::int from private.user_api_key_secrets where user_id = $1) as secrets`,
      [user.id],
    );
    expect(rows[0]).toEqual({ keys: 1, secrets: 1 });
    const plain = await asRole(db, service, 'select public.get_user_api_key($1, $2) as key', [user.id, 'anthropic']);
    const hint = await db.query('select key_hint from public.user_api_keys where user_id = $1', [user.id]);
    expect(plain.rows[0]!.key.slice(-4)).toBe(hint.rows[0]!.key_hint.slice(-4));
  });
});

describe('the table endpoint (PostgREST, as the user) allows no more than the RPCs', () => {
  it('refuses ids, server times and numbers a user must not choose', async () => {
    const alice = await users.create();
    const client = await userClient(alice);

    const chosenId = await client.from('locations').insert({ id: '00000000-0000-4000-a000-00000000abcd', name: 'x', lat: 0, lng: 0 });
    expect(chosenId.error).toMatchObject({ code: SqlState.insufficientPrivilege });
    const nan = await client.from('locations').insert({ name: 'nan', lat: 'NaN', lng: 0 });
    expect(nan.status).toBe(400);
    expect(nan.error).toMatchObject({ code: SqlState.checkViolation });
    expect(await client.from('locations').insert({ name: 'home', lat: -1.95, lng: 30.06 })).toMatchObject({ error: null, status: 201 });

    const repo = await client.from('github_repositories').insert({ repo_owner: 'octo', repo_name: 'api-test' }).select('id').single();
    expect(repo.error).toBeNull();
    const touch = await client.from('github_repositories').update({ last_accessed: 'infinity' }).eq('id', repo.data!.id);
    expect(touch.error).toMatchObject({ code: SqlState.insufficientPrivilege });

    await asRole(db, service, `select public.create_notification($1, 'in_app', 'hello')`, [alice.id]);
    const unread = await client.from('notifications').update({ read_at: null }).eq('user_id', alice.id);
    expect(unread.error).toMatchObject({ code: SqlState.insufficientPrivilege });
    expect(await client.rpc('mark_notifications_read')).toMatchObject({ data: 1, error: null });
  });

  // One request per attempt: its rows share one transaction time, so the
  // count does not depend on how fast the requests follow each other.
  it('answers 429 for a request that would exceed the basic plan\'s 120 writes a minute, and stores none of it', async () => {
    const user = await users.create();
    const client = await userClient(user);
    const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `q${i}`, lat: 0, lng: 0 }));
    const denied = await client.from('locations').insert(rows(121));
    expect(denied.status).toBe(429);
    expect(denied.error).toMatchObject({ code: 'PT429' });
    const { rows: stored } = await db.query('select count(*)::int as n from public.locations where user_id = $1', [user.id]);
    expect(stored[0]!.n).toBe(0);
    expect(await client.from('locations').insert(rows(120))).toMatchObject({ error: null, status: 201 });
  });
});

describe('the zod contract agrees with the SQL checks', () => {
  const txCases: Array<[string, Record<string, unknown>]> = [
    ['valid credit', { p_type: 'credit', p_amount: 10, p_currency: 'USD' }],
    ['4 decimals', { p_type: 'credit', p_amount: 1.2345, p_currency: 'USD' }],
    ['5 decimals', { p_type: 'credit', p_amount: 1.23456, p_currency: 'USD' }],
    ['zero', { p_type: 'credit', p_amount: 0, p_currency: 'USD' }],
    ['negative', { p_type: 'credit', p_amount: -1, p_currency: 'USD' }],
    ['lower-case currency', { p_type: 'credit', p_amount: 1, p_currency: 'usd' }],
    ['unknown type', { p_type: 'transfer', p_amount: 1, p_currency: 'USD' }],
    ['255-char key', { p_type: 'credit', p_amount: 1, p_currency: 'USD', p_idempotency_key: 'k'.repeat(255) }],
    ['256-char key', { p_type: 'credit', p_amount: 1, p_currency: 'USD', p_idempotency_key: 'k'.repeat(256) }],
    ['empty key', { p_type: 'credit', p_amount: 1, p_currency: 'USD', p_idempotency_key: '' }],
  ];

  it.each(txCases)('create_transaction: %s', async (_name, args) => {
    const user = await users.create();
    const full: Record<string, unknown> = { p_user_id: user.id, p_idempotency_key: null, ...args };
    const call = asUser(db, user, 'select public.create_transaction($1, $2, $3, $4, $5)', [
      full.p_user_id, full.p_type, full.p_amount, full.p_currency, full.p_idempotency_key,
    ]);
    await expectZodAgreesWithSql(createTransactionArgs, full, call);
  });

  const nearbyCases: Array<[string, [number, number, number]]> = [
    ['valid', [-1.94, 30.06, 1000]],
    ['lat 90', [90, 0, 1]],
    ['lat 90.1', [90.1, 0, 1]],
    ['lng -180', [0, -180, 1]],
    ['lng -180.5', [0, -180.5, 1]],
    ['radius 50000', [0, 0, 50000]],
    ['radius 50001', [0, 0, 50001]],
    ['radius 0', [0, 0, 0]],
  ];

  it.each(nearbyCases)('find_nearby_locations: %s', async (_name, [lat, lng, radius]) => {
    const user = await users.create();
    const call = asUser(db, user, 'select * from public.find_nearby_locations($1, $2, $3)', [lat, lng, radius]);
    await expectZodAgreesWithSql(findNearbyLocationsArgs, { p_lat: lat, p_lng: lng, p_radius_meters: radius }, call);
  });

  const keyCases: Array<[string, string, string]> = [
    ['valid', 'openai', 'sk-12345678'],
    ['7 chars', 'openai', 'sk-1234'],
    ['space in key', 'openai', 'sk-1234 5678'],
    ['upper-case service', 'OpenAI', 'sk-12345678'],
    ['dotted service', 'api.example', 'sk-12345678'],
  ];

  it.each(keyCases)('set_user_api_key: %s', async (_name, service_, key) => {
    const user = await users.create();
    const call = asUser(db, user, 'select public.set_user_api_key($1, $2)', [service_, key]);
    await expectZodAgreesWithSql(setUserApiKeyArgs, { p_service: service_, p_api_key: key }, call);
  });
});
