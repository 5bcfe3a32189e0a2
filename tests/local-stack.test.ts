// The database the tests run on is a Supabase database in the ways our
// migrations depend on — true for the local stack and for `supabase start`
// or a hosted project alike.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encryptionKeyNames, encryptionKeysFile, ensureEncryptionKeys, repoRoot } from '../local-stack/lib.mjs';
import { parseProve } from '../local-stack/tap-summary.mjs';
import { serviceClient, userClient } from './support/api.ts';
import { inTransaction, testDatabase } from './support/db.ts';

const { db, users } = testDatabase(4);

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

describe('encryption keys (private.encryption_key: Vault on hosted projects, the cluster\'s own keys here)', () => {
  const services: string[] = [];
  afterAll(async () => {
    await db.query('delete from public.configurations where service_name = any($1)', [services]);
  });

  it('a user stores an API key through the API with no key set by the test', async () => {
    const user = await users.create();
    const client = await userClient(user);
    const { data, error } = await client.rpc('set_user_api_key', { p_service: 'anthropic', p_api_key: 'sk-ant-local-stack-key-1234' });
    expect(error).toBeNull();
    expect(data).toMatchObject({ key_hint: '...1234' });
  });

  it('the service role stores and reads back a secret configuration', async () => {
    const service = `local-stack-key-${Date.now()}`;
    services.push(service);
    const client = serviceClient();
    const set = await client.rpc('set_config', { p_service_name: service, p_config_key: 'token', p_config_value: 's3cr3t', p_is_secret: true });
    expect(set.error).toBeNull();
    const read = await client.rpc('get_service_configs', { p_service_name: service, p_include_secrets: true });
    expect(read.error).toBeNull();
    expect(read.data.token.value).toBe('s3cr3t');
  });

  it('no API role reads a key (the setting is for the definer functions only, through the API)', async () => {
    const user = await users.create();
    const { error } = await (await userClient(user)).rpc('encryption_key', { p_name: 'config_encryption_key' });
    expect(error).not.toBeNull();
  });
});

describe('ensureEncryptionKeys (local-stack/lib.mjs): each cluster\'s keys, made once', () => {
  const dirs: string[] = [];
  const newDataDir = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'keys-test-'));
    dirs.push(dir);
    writeFileSync(path.join(dir, 'postgresql.conf'), '# initdb\n');
    return dir;
  };
  const keysOf = (dir: string) =>
    Object.fromEntries([...readFileSync(path.join(dir, encryptionKeysFile), 'utf8').matchAll(/^app\.(\w+) = '([0-9a-f]+)'$/gm)].map((m) => [m[1], m[2]]));
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('writes a random 256-bit key per name, readable by the owner only, and includes the file once', () => {
    const dir = newDataDir();
    expect(ensureEncryptionKeys(dir)).toBe(true);
    const keys = keysOf(dir);
    expect(Object.keys(keys).sort()).toEqual([...encryptionKeyNames].sort());
    for (const key of Object.values(keys)) expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(path.join(dir, encryptionKeysFile)).mode & 0o077).toBe(0);
    const conf = readFileSync(path.join(dir, 'postgresql.conf'), 'utf8');
    expect(conf.match(/^include_if_exists = 'encryption-keys.conf'$/gm)).toHaveLength(1);
    expect(keysOf(newDataDirWithKeys())).not.toEqual(keys); // another cluster, other keys
  });

  it('keeps existing keys (data encrypted with them stays readable) and adds only what is missing', () => {
    const dir = newDataDir();
    ensureEncryptionKeys(dir);
    const before = keysOf(dir);
    expect(ensureEncryptionKeys(dir)).toBe(false);
    expect(keysOf(dir)).toEqual(before);
    const [first, second] = encryptionKeyNames;
    writeFileSync(path.join(dir, encryptionKeysFile), `app.${first} = '${before[first!]}'\n`);
    expect(ensureEncryptionKeys(dir)).toBe(true);
    expect(keysOf(dir)[first!]).toBe(before[first!]);
    expect(keysOf(dir)[second!]).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(path.join(dir, 'postgresql.conf'), 'utf8').match(/include_if_exists/g)).toHaveLength(1);
  });

  it('the project cluster\'s key file is never committed (git ignores .local-stack/)', () => {
    const r = spawnSync('git', ['check-ignore', '-q', `.local-stack/data/${encryptionKeysFile}`], { cwd: repoRoot });
    expect(r.status).toBe(0);
  });

  function newDataDirWithKeys() {
    const dir = newDataDir();
    ensureEncryptionKeys(dir);
    return dir;
  }
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
