// Real-database helpers for vitest: connections as `postgres` (as the CLI and
// pgTAP use), users created in auth.users as GoTrue would, and requests run
// the way PostgREST runs them — one transaction with the role and the JWT
// claims set locally.
import { randomUUID } from 'node:crypto';
import pg from 'pg';

export const dbUrl =
  process.env.SUPABASE_DB_URL ?? 'postgresql://postgres:postgres@127.0.0.1:54322/postgres?sslmode=disable';

export function createPool(max = 10): pg.Pool {
  return new pg.Pool({ connectionString: dbUrl, max });
}

export interface TestUser {
  id: string;
  email: string;
  appMetadata: Record<string, unknown>;
  userMetadata: Record<string, unknown>;
}

/** Inserts an auth user (its profile comes from the on_auth_user_created trigger). */
export async function createUser(
  db: pg.Pool | pg.PoolClient,
  opts: { appMetadata?: Record<string, unknown>; userMetadata?: Record<string, unknown> } = {},
): Promise<TestUser> {
  const id = randomUUID();
  const email = `vitest-${id}@test.local`;
  const appMetadata = { provider: 'email', providers: ['email'], ...opts.appMetadata };
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

/** The access-token claims GoTrue issues for a signed-in user. */
export function claimsFor(user: TestUser): Record<string, unknown> {
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
  };
}

/**
 * Runs one statement as PostgREST would for a request with these claims: its
 * own transaction, `role` and `request.jwt.claims` set locally, committed on
 * success and rolled back on error (the error is rethrown).
 */
export async function asRole<T extends pg.QueryResultRow = pg.QueryResultRow>(
  db: pg.Pool,
  claims: Record<string, unknown>,
  sql: string,
  params: unknown[] = [],
): Promise<pg.QueryResult<T>> {
  const client = await db.connect();
  try {
    await client.query('begin');
    await client.query(
      `select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`,
      [String(claims.role ?? 'anon'), JSON.stringify(claims)],
    );
    const result = await client.query<T>(sql, params);
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export const asUser = <T extends pg.QueryResultRow = pg.QueryResultRow>(
  db: pg.Pool,
  user: TestUser,
  sql: string,
  params: unknown[] = [],
) => asRole<T>(db, claimsFor(user), sql, params);

export const asAnon = (db: pg.Pool, sql: string, params: unknown[] = []) =>
  asRole(db, { role: 'anon' }, sql, params);
