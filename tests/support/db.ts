// Real-database helpers for vitest: connections as `postgres` (as the CLI and
// pgTAP use), users created in auth.users as GoTrue would, and requests run
// the way PostgREST runs them — one transaction with the role and the JWT
// claims set locally.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, expect } from 'vitest';

export const dbUrl =
  process.env.SUPABASE_DB_URL ?? 'postgresql://postgres:postgres@127.0.0.1:54322/postgres?sslmode=disable';

/** A pool of `max` connections; `settings` are given to every connection (as an operator sets them on the database). */
export function createPool(max = 10, opts: { settings?: Record<string, string> } = {}): pg.Pool {
  const options = Object.entries(opts.settings ?? {}).map(([k, v]) => `-c ${k}=${v}`).join(' ');
  return new pg.Pool({ connectionString: dbUrl, max, ...(options ? { options } : {}) });
}

export interface TestUser {
  id: string;
  email: string;
  appMetadata: Record<string, unknown>;
  userMetadata: Record<string, unknown>;
}

export interface CreateUserOptions {
  /** `role: 'admin'` in app_metadata (the only place the admin role is read from). */
  admin?: boolean;
  appMetadata?: Record<string, unknown>;
  userMetadata?: Record<string, unknown>;
}

/** Inserts an auth user (its profile comes from the on_auth_user_created trigger). */
export async function createUser(db: pg.Pool | pg.PoolClient, opts: CreateUserOptions = {}): Promise<TestUser> {
  const id = randomUUID();
  const email = `vitest-${id}@test.local`;
  const appMetadata = { provider: 'email', providers: ['email'], ...(opts.admin ? { role: 'admin' } : {}), ...opts.appMetadata };
  const userMetadata = { ...opts.userMetadata };
  await db.query(
    `insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                             raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
     values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2, '', now(),
             $3, $4, now(), now())`,
    [id, email, appMetadata, userMetadata],
  );
  return { id, email, appMetadata, userMetadata };
}

export async function deleteUsers(db: pg.Pool, users: TestUser[]): Promise<void> {
  if (users.length) await db.query('delete from auth.users where id = any($1::uuid[])', [users.map((u) => u.id)]);
}

/**
 * The users of one test file: `create` one, `createMany` n (with `admin` for
 * app_metadata role admin), all deleted by `deleteAll` in the file's afterAll
 * (before it ends the pool).
 */
export function usersFixture(db: pg.Pool) {
  const created: TestUser[] = [];
  const create = async (opts?: CreateUserOptions): Promise<TestUser> => {
    const user = await createUser(db, opts);
    created.push(user);
    return user;
  };
  return {
    create,
    createMany: (n: number, opts?: CreateUserOptions): Promise<TestUser[]> =>
      Promise.all(Array.from({ length: n }, () => create(opts))),
    deleteAll: () => deleteUsers(db, created.splice(0)),
  };
}

/**
 * A test file's database: a pool (see createPool) and its users fixture,
 * registered so that after the file's tests its users are deleted and the
 * pool ended. Call it at the top of the file: vitest runs afterAll hooks in
 * reverse order (sequence.hooks "stack"), so a file's own afterAll, registered
 * later, runs first, while the pool is still open.
 */
export function testDatabase(max = 10, opts: { settings?: Record<string, string> } = {}) {
  const db = createPool(max, opts);
  const users = usersFixture(db);
  afterAll(async () => {
    await users.deleteAll();
    await db.end();
  });
  return { db, users };
}

export type Claims = Record<string, unknown>;

/** The claims PostgREST has for the secret (service_role) key. */
export const serviceClaims: Claims = { role: 'service_role' };

/** The access-token claims GoTrue issues for a signed-in user; `extra` overrides or adds claims. */
export function claimsFor(user: TestUser, extra: Claims = {}): Claims {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: 'http://127.0.0.1:54321/auth/v1',
    sub: user.id,
    aud: 'authenticated',
    exp: now + 3600,
    iat: now,
    email: user.email,
    phone: '',
    role: 'authenticated',
    app_metadata: user.appMetadata,
    user_metadata: user.userMetadata,
    aal: 'aal1',
    amr: [{ method: 'password', timestamp: now }],
    session_id: randomUUID(),
    is_anonymous: false,
    ...extra,
  };
}

export interface RequestOptions {
  /** Further settings set locally with the role and claims, e.g. `app.usage_now`. */
  settings?: Record<string, string>;
}

/**
 * Sets, locally to the client's open transaction, what PostgREST sets for a
 * request: `role` (from the claims; anon without one) and
 * `request.jwt.claims`, then any further settings, in one statement. With
 * `claims` null only the settings are set.
 */
export async function actAs(client: pg.ClientBase, claims: Claims | null, opts: RequestOptions = {}): Promise<void> {
  const settings: Array<[string, string]> = [
    ...(claims ? ([['role', String(claims.role ?? 'anon')], ['request.jwt.claims', JSON.stringify(claims)]] as Array<[string, string]>) : []),
    ...Object.entries(opts.settings ?? {}),
  ];
  if (!settings.length) return;
  await client.query(
    `select ${settings.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(', ')}`,
    settings.flat(),
  );
}

/** A transaction left open on its own connection; commit() or rollback() ends it and releases the connection. */
export interface OpenTransaction {
  client: pg.PoolClient;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/** Begins a transaction acting as `claims` (see actAs) and leaves it open. */
export async function beginAs(db: pg.Pool, claims: Claims | null, opts: RequestOptions = {}): Promise<OpenTransaction> {
  const client = await db.connect();
  let open = true;
  const end = async (sql: 'commit' | 'rollback') => {
    if (!open) return;
    open = false;
    try {
      await client.query(sql);
    } finally {
      client.release();
    }
  };
  try {
    await client.query('begin');
    await actAs(client, claims, opts);
  } catch (err) {
    await end('rollback').catch(() => undefined);
    throw err;
  }
  return { client, commit: () => end('commit'), rollback: () => end('rollback') };
}

/**
 * Runs `fn` on one client in a transaction acting as `claims`: committed on
 * success (rolled back with `rollback: true`), rolled back on error (the error
 * is rethrown).
 */
export async function inTransaction<T>(
  db: pg.Pool,
  claims: Claims | null,
  fn: (client: pg.PoolClient) => Promise<T>,
  opts: RequestOptions & { rollback?: boolean } = {},
): Promise<T> {
  const tx = await beginAs(db, claims, opts);
  try {
    const result = await fn(tx.client);
    await (opts.rollback ? tx.rollback() : tx.commit());
    return result;
  } catch (err) {
    await tx.rollback().catch(() => undefined);
    throw err;
  }
}

/**
 * Runs one statement as PostgREST would for a request with these claims: its
 * own transaction, `role` and `request.jwt.claims` (and `opts.settings`) set
 * locally, committed on success and rolled back on error (the error is rethrown).
 */
export const asRole = <T extends pg.QueryResultRow = pg.QueryResultRow>(
  db: pg.Pool,
  claims: Claims,
  sql: string,
  params: unknown[] = [],
  opts: RequestOptions = {},
): Promise<pg.QueryResult<T>> => inTransaction(db, claims, (client) => client.query<T>(sql, params), opts);

export const asUser = <T extends pg.QueryResultRow = pg.QueryResultRow>(
  db: pg.Pool,
  user: TestUser,
  sql: string,
  params: unknown[] = [],
  opts: RequestOptions = {},
) => asRole<T>(db, claimsFor(user), sql, params, opts);

export const asService = <T extends pg.QueryResultRow = pg.QueryResultRow>(
  db: pg.Pool,
  sql: string,
  params: unknown[] = [],
  opts: RequestOptions = {},
) => asRole<T>(db, serviceClaims, sql, params, opts);

export const asAnon = (db: pg.Pool, sql: string, params: unknown[] = []) =>
  asRole(db, { role: 'anon' }, sql, params);

/**
 * Starts the calls together (they are already running) and expects exactly
 * `winners` of them to succeed and every other to fail with SQLSTATE `code`
 * and, when given, `message` (equal to a string, or matching a RegExp).
 * Returns the winners' results.
 */
export async function expectRaceWinners<T>(
  calls: Promise<T>[],
  winners: number,
  code: string,
  message?: string | RegExp,
): Promise<T[]> {
  const results = await Promise.allSettled(calls);
  const ok = results.filter((r): r is PromiseFulfilledResult<Awaited<T>> => r.status === 'fulfilled');
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  expect(ok).toHaveLength(winners);
  expect(failed).toHaveLength(calls.length - winners);
  for (const f of failed) {
    expect(f.reason.code).toBe(code);
    if (typeof message === 'string') expect(f.reason.message).toBe(message);
    else if (message) expect(f.reason.message).toMatch(message);
  }
  return ok.map((r) => r.value);
}
