// The database the tests run on is a Supabase database in the ways our
// migrations depend on — true for the local stack and for `supabase start`
// or a hosted project alike.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProve } from '../local-stack/tap-summary.mjs';
import { inTransaction, testDatabase } from './support/db.ts';

const { db } = testDatabase(4);

describe('the database as migrations see it', () => {
  it('connects as postgres, which is not a superuser but bypasses RLS', async () => {
    const { rows } = await db.query(
      `select current_user as who, rolsuper, rolbypassrls from pg_roles where rolname = current_user`,
    );
    expect(rows[0]).toEqual({ who: 'postgres', rolsuper: false, rolbypassrls: true });
  });

  it('has the API roles with Supabase attributes', async () => {
    const { rows } = await db.query(
      `select rolname, rolcanlogin, rolbypassrls from pg_roles
        where rolname in ('anon', 'authenticated', 'service_role', 'authenticator') order by rolname`,
    );
    expect(rows).toEqual([
      { rolname: 'anon', rolcanlogin: false, rolbypassrls: false },
      { rolname: 'authenticated', rolcanlogin: false, rolbypassrls: false },
      { rolname: 'authenticator', rolcanlogin: true, rolbypassrls: false },
      { rolname: 'service_role', rolcanlogin: false, rolbypassrls: true },
    ]);
  });

  it('records every migration file in supabase_migrations.schema_migrations', async () => {
    const files = readdirSync(path.resolve(import.meta.dirname, '../supabase/migrations'))
      .filter((f) => f.endsWith('.sql'))
      .map((f) => /^(\d+)_(.*)\.sql$/.exec(f)!)
      .map(([, version, name]) => ({ version, name }));
    const { rows } = await db.query('select version, name from supabase_migrations.schema_migrations order by version');
    expect(rows).toEqual(files);
  });

  it('has the supabase_realtime publication', async () => {
    const { rowCount } = await db.query(`select 1 from pg_publication where pubname = 'supabase_realtime'`);
    expect(rowCount).toBe(1);
  });

  it('does not make postgres a member of the auth or storage admin roles', async () => {
    const { rows } = await db.query(
      `select pg_has_role('postgres', 'supabase_auth_admin', 'member') as auth,
              pg_has_role('postgres', 'supabase_storage_admin', 'member') as storage`,
    );
    expect(rows[0]).toEqual({ auth: false, storage: false });
  });

  it('has no pgrst.db_schemas database setting (PostgREST reads its schemas from its environment)', async () => {
    const { rows } = await db.query(`select current_setting('pgrst.db_schemas', true) as v`);
    expect(rows[0].v ?? '').toBe('');
  });

  it('lets postgres read cron.job but not write it (it schedules through cron.schedule)', async () => {
    const { rows } = await db.query(
      `select has_table_privilege('cron.job', 'select') as can_read,
              has_table_privilege('cron.job', 'insert') or has_table_privilege('cron.job', 'update')
                or has_table_privilege('cron.job', 'delete') as can_write`,
    );
    expect(rows[0]).toEqual({ can_read: true, can_write: false });
  });

  it('gives the privileged extensions the migrations create to supabase_admin, as supautils does', async () => {
    const { rows } = await db.query(
      `select extname, extowner::regrole::text as owner, extnamespace::regnamespace::text as schema
         from pg_extension where extname in ('pg_cron', 'postgis') order by extname`,
    );
    expect(rows).toEqual([
      { extname: 'pg_cron', owner: 'supabase_admin', schema: 'pg_catalog' },
      { extname: 'postgis', owner: 'supabase_admin', schema: 'extensions' },
    ]);
  });

  it('refuses a direct DELETE on storage.objects, as storage-api does since v1.35', async () => {
    await expect(db.query(`delete from storage.objects where false`)).rejects.toMatchObject({ code: '42501' });
  });
});

describe('auth helpers follow GoTrue', () => {
  // the settings alone (no role), in a transaction rolled back afterwards
  const inTx = (settings: Record<string, string>, sql: string) =>
    inTransaction(db, null, async (client) => (await client.query(sql)).rows[0], { settings, rollback: true });

  it('auth.uid() reads sub from request.jwt.claims', async () => {
    const sub = '6f1f3d1e-3c1a-4f38-9d8e-3b6a4a1c2d10';
    expect(await inTx({ 'request.jwt.claims': JSON.stringify({ sub, role: 'authenticated' }) }, 'select auth.uid() as v'))
      .toEqual({ v: sub });
  });

  it('auth.uid() prefers the legacy request.jwt.claim.sub when set', async () => {
    const legacy = '00000000-0000-0000-0000-000000000001';
    const claims = JSON.stringify({ sub: '00000000-0000-0000-0000-000000000002' });
    expect(await inTx({ 'request.jwt.claims': claims, 'request.jwt.claim.sub': legacy }, 'select auth.uid() as v'))
      .toEqual({ v: legacy });
  });

  it('auth.uid() is null without claims and auth.role() is anon for PostgREST anon requests', async () => {
    expect(await inTx({ 'request.jwt.claims': '' }, 'select auth.uid() as v')).toEqual({ v: null });
    expect(await inTx({ 'request.jwt.claims': '{"role":"anon"}' }, 'select auth.uid() as u, auth.role() as r'))
      .toEqual({ u: null, r: 'anon' });
  });

  it('auth.jwt() returns the whole claims object', async () => {
    const claims = { sub: '00000000-0000-0000-0000-000000000003', app_metadata: { role: 'admin' } };
    expect(await inTx({ 'request.jwt.claims': JSON.stringify(claims) }, 'select auth.jwt() as v')).toEqual({ v: claims });
  });

  it('a malformed sub is an error (22P02), not a silent null', async () => {
    await expect(inTx({ 'request.jwt.claims': '{"sub":"not-a-uuid"}' }, 'select auth.uid()')).rejects.toMatchObject({
      code: '22P02',
    });
  });
});

describe('the pg_prove summary parser that npm test counts with', () => {
  it('counts a passing run', () => {
    expect(parseProve('x.sql .. ok\nAll tests successful.\nFiles=2, Tests=80,  0 wallclock secs\nResult: PASS\n'))
      .toEqual({ passed: 80, failed: 0 });
  });

  it('counts listed failures, including ranges', () => {
    const out = [
      'Test Summary Report',
      '-------------------',
      'supabase/tests/010-identity.test.sql (Wstat: 0 Tests: 62 Failed: 3)',
      '  Failed tests:  46-47, 50',
      'Files=3, Tests=80,  0 wallclock secs',
      'Result: FAIL',
    ].join('\n');
    expect(parseProve(out)).toEqual({ passed: 77, failed: 3 });
  });

  it('counts tests a dying file never ran', () => {
    const out = [
      'Test Summary Report',
      '-------------------',
      'supabase/tests/001-schema.test.sql      (Wstat: 768 (exited 3) Tests: 3 Failed: 0)',
      '  Non-zero exit status: 3',
      '  Parse errors: Bad plan.  You planned 14 tests but ran 3.',
      'Files=3, Tests=59,  1 wallclock secs',
      'Result: FAIL',
    ].join('\n');
    expect(parseProve(out)).toEqual({ passed: 59, failed: 11 });
  });

  it('treats output without a result line as a failure', () => {
    expect(parseProve('psql: error: connection refused\n').failed).toBeGreaterThan(0);
  });
});
