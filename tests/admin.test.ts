// Admin under real concurrency (parallel connections, exact counts), the
// flag rollout distribution and stability, and the zod contract against what
// the SQL returns.
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FLAG_BUCKETS,
  agentConfig,
  agentTypes,
  appSettings,
  configEntry,
  flagEvaluation,
  flagStats,
  modelConfig,
  providers,
  serviceConfigs,
  serviceRegistryRow,
  setConfigArgs,
} from '../shared/schemas/admin.ts';
import { asService, asUser, testDatabase } from './support/db.ts';

const { db, users } = testDatabase(24);
const flagKeys: string[] = [];
const services: string[] = [];
afterAll(async () => {
  if (flagKeys.length) {
    await db.query('delete from public.feature_flag_evaluations where flag_key = any($1)', [flagKeys]);
    await db.query('delete from public.feature_flags where flag_key = any($1)', [flagKeys]);
  }
  if (services.length) {
    await db.query('delete from public.configurations where service_name = any($1)', [services]);
    await db.query('delete from public.configuration_history where service_name = any($1)', [services]);
    await db.query('delete from public.service_registry where service_name = any($1)', [services]);
  }
});

const suffix = randomUUID().slice(0, 8);

/** The documented bucket formula, computed outside the database. */
const bucket = (flagKey: string, userId: string) =>
  Number.parseInt(createHash('md5').update(`${flagKey}:${userId}`).digest('hex').slice(0, 8), 16) % FLAG_BUCKETS;

describe('seeded agent configs', () => {
  it('all 18 agent configs and app_settings satisfy the contract', async () => {
    const { rows } = await db.query<{ config_key: string; config_data: unknown }>(
      `select config_key, config_data from public.admin_config where config_key like '%\\_agent\\_%' or config_key = 'app_settings'`,
    );
    const keys = new Set(rows.map((r) => r.config_key));
    for (const a of agentTypes) for (const p of providers) expect(keys.has(`${a}_${p}`)).toBe(true);
    for (const r of rows) {
      if (r.config_key === 'app_settings') appSettings.parse(r.config_data);
      else agentConfig.parse(r.config_data);
    }
  });
});

describe('feature flag rollout', () => {
  it('30% over 10,000 synthetic users lands within 27-33%, the same answer twice, the documented md5 bucket', async () => {
    const admin = await users.create({ admin: true });
    const flag = `test.rollout.${suffix}`;
    flagKeys.push(flag);
    await asUser(db, admin, `select public.upsert_feature_flag($1, 'all', true, 'percentage', 30)`, [flag]);

    const ids = Array.from({ length: 10_000 }, () => randomUUID());
    const evaluate = async () => {
      const { rows } = await asService<{ id: string; on: boolean }>(
        db,
        `select id, public.is_feature_enabled($1, id, 'production') as on from unnest($2::uuid[]) as id`,
        [flag, ids],
      );
      return new Map(rows.map((r) => [r.id, r.on]));
    };
    const first = await evaluate();
    const second = await evaluate();
    const on = [...first.values()].filter(Boolean).length;
    expect(on).toBeGreaterThanOrEqual(2700);
    expect(on).toBeLessThanOrEqual(3300);
    for (const id of ids) {
      expect(second.get(id)).toBe(first.get(id));
      expect(first.get(id)).toBe(bucket(flag, id) < 3000);
    }
  });

  it('parallel evaluations by one user record one exposure; by 20 users, 20', async () => {
    const admin = await users.create({ admin: true });
    const flag = `test.exposure.${suffix}`;
    flagKeys.push(flag);
    await asUser(db, admin, `select public.upsert_feature_flag($1, 'all', true, 'all')`, [flag]);
    const user = await users.create();
    const results = await Promise.all(
      Array.from({ length: 24 }, () => asUser(db, user, `select public.evaluate_feature_flag($1) as r`, [flag])),
    );
    for (const r of results) expect(flagEvaluation.parse(r.rows[0]!.r).reason).toBe('STATIC');
    const twenty = await users.createMany(20);
    await Promise.all(twenty.map((u) => asUser(db, u, `select public.is_feature_enabled($1)`, [flag])));
    const { rows } = await db.query<{ n: number }>(
      'select count(*)::int as n from public.feature_flag_evaluations where flag_key = $1',
      [flag],
    );
    expect(rows[0]!.n).toBe(21);
    const stats = await asUser(db, admin, `select public.get_feature_flag_stats($1) as s`, [flag]);
    expect(flagStats.parse(stats.rows[0]!.s)).toEqual([
      expect.objectContaining({ variant: 'on', users: 21, flag_version: 1 }),
    ]);
  });
});

describe('per-agent rate limits', () => {
  it('40 parallel calls against mermaid_agent (3 a minute) admit exactly 3', async () => {
    const user = await users.create();
    const results = await Promise.all(
      Array.from({ length: 40 }, () =>
        asUser<{ r: { allowed: boolean } }>(db, user, `select public.check_rate_limit('mermaid_agent') as r`),
      ),
    );
    expect(results.filter((r) => r.rows[0]!.r.allowed).length).toBe(3);
  });
});

describe('configurations', () => {
  it('parallel set_config calls on one key: every change versioned and in the history, none lost', async () => {
    const admin = await users.create({ admin: true });
    const svc = `test-cfg-${suffix}`;
    services.push(svc);
    const first = await asUser(db, admin, `select public.set_config($1, 'limit', '0', 'all', 'number') as r`, [svc]);
    configEntry.parse(first.rows[0]!.r);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        asUser(db, admin, `select public.set_config($1, 'limit', $2::jsonb, 'all', 'number')`, [svc, String(i + 1)]),
      ),
    );
    const { rows } = await db.query<{ version: number; history: number }>(
      `select (select version from public.configurations where service_name = $1 and config_key = 'limit') as version,
              (select count(*)::int from public.configuration_history where service_name = $1) as history`,
      [svc],
    );
    expect(rows[0]).toEqual({ version: 21, history: 21 });
  });

  it('secrets: encrypted with the configured key, only the service role decrypts', async () => {
    const admin = await users.create({ admin: true });
    const svc = `test-sec-${suffix}`;
    services.push(svc);
    const withKey = { settings: { 'app.config_encryption_key': 'vitest-config-key-0123456789-0123456789' } };
    const set = await asService(
      db,
      `select public.set_config($1, 'token', '"s3cr3t"', 'production', 'string', true) as r`,
      [svc],
      withKey,
    );
    expect(configEntry.parse(set.rows[0]!.r).value).toBeNull();
    await asService(db, `select public.set_config($1, 'timeout_ms', '2500', 'all', 'number')`, [svc]);

    const byService = await asService(db, `select public.get_service_configs($1, 'production', true) as r`, [svc], withKey);
    const all = serviceConfigs.parse(byService.rows[0]!.r);
    expect(all.token?.value).toBe('s3cr3t');
    expect(all.timeout_ms?.value).toBe(2500);

    const asAdmin = await asUser(db, admin, `select public.get_service_configs($1, 'production') as r`, [svc]);
    expect(serviceConfigs.parse(asAdmin.rows[0]!.r).token).toMatchObject({ value: null, is_secret: true });
    await expect(asUser(db, admin, `select public.get_service_configs($1, 'production', true)`, [svc])).rejects.toMatchObject({
      code: '42501',
    });
  });

  it('the argument contract matches the SQL type check', () => {
    expect(setConfigArgs.safeParse({ p_service_name: 'a', p_config_key: 'k', p_config_value: 1, p_value_type: 'number' }).success).toBe(true);
    expect(setConfigArgs.safeParse({ p_service_name: 'a', p_config_key: 'k', p_config_value: 'yes', p_value_type: 'boolean' }).success).toBe(false);
  });
});

describe('models and services', () => {
  it('get_active_models rows and register_service rows parse', async () => {
    const user = await users.create();
    // as JSON, the way PostgREST returns rows
    const models = await asUser<{ r: unknown }>(db, user, 'select to_jsonb(m) as r from public.get_active_models() as m');
    expect(models.rows.length).toBeGreaterThan(0);
    for (const m of models.rows) expect(modelConfig.parse(m.r).is_active).toBe(true);

    const svc = `test-reg-${suffix}`;
    services.push(svc);
    const reg = await asService<{ r: unknown }>(
      db,
      `select to_jsonb(public.register_service($1, 'microservice', '1.0.0', 'http://x:1', '["a"]')) as r`,
      [svc],
    );
    expect(serviceRegistryRow.parse(reg.rows[0]!.r).status).toBe('healthy');
    // parallel heartbeats of one service: all succeed, one row
    await Promise.all(Array.from({ length: 10 }, () => asService(db, `select public.service_heartbeat($1)`, [svc])));
    const { rows } = await db.query('select count(*)::int as n from public.service_registry where service_name = $1', [svc]);
    expect(rows[0]!.n).toBe(1);
  });
});
