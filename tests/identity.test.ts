// Identity under real concurrency (profiles, experiences and their cache tags),
// and the zod contract against the SQL rules.
import { describe, expect, it } from 'vitest';
import { SqlState } from '../shared/errors.ts';
import { updateMyProfileArgs } from '../shared/schemas/identity.ts';
import { expectZodAgreesWithSql, namedCall } from './support/contract.ts';
import { asAnon, asService, asUser, expectRaceWinners, testDatabase } from './support/db.ts';

const { db, users } = testDatabase(20);

describe('sign-up', () => {
  it('gives every user created in parallel exactly one profile', async () => {
    const thirty = await users.createMany(30);
    const { rows } = await db.query('select count(*)::int as n from public.profiles where id = any($1::uuid[])', [
      thirty.map((u) => u.id),
    ]);
    expect(rows[0].n).toBe(30);
  });
});

describe('update_my_profile', () => {
  it('lets exactly one of many parallel callers claim a username', async () => {
    const sixteen = await users.createMany(16);
    const wanted = `race_${Date.now().toString(36)}`;
    await expectRaceWinners(
      sixteen.map((u, i) =>
        // alternate the case: uniqueness ignores it
        asUser(db, u, 'select username from public.update_my_profile(p_username => $1)', [
          i % 2 ? wanted.toUpperCase() : wanted,
        ]),
      ),
      1,
      SqlState.uniqueViolation,
      /^username ".*" is already taken$/,
    );
    const { rows } = await db.query('select count(*)::int as n from public.profiles where lower(username) = lower($1)', [
      wanted,
    ]);
    expect(rows[0].n).toBe(1);
  });

  it('is refused to anon with 42501', async () => {
    await expect(asAnon(db, `select public.update_my_profile(p_username => 'nobody')`)).rejects.toMatchObject({
      code: SqlState.insufficientPrivilege,
    });
  });

  it('reads the admin role from app_metadata only', async () => {
    const admin = await users.create({ admin: true });
    const pretender = await users.create({ userMetadata: { role: 'admin' } });
    const q = 'select public.is_current_user_admin() as admin, public.get_user_role() as role';
    expect((await asUser(db, admin, q)).rows[0]).toEqual({ admin: true, role: 'admin' });
    expect((await asUser(db, pretender, q)).rows[0]).toEqual({ admin: false, role: 'user' });
  });
});

describe('experiences', () => {
  it('admit exactly the write quota (120 a minute) of one user\'s parallel creates', async () => {
    const user = await users.create();
    // the rate-limit clock pinned, as PostgREST requests within one instant
    const at = { settings: { 'app.usage_now': new Date().toISOString() } };
    await expectRaceWinners(
      Array.from({ length: 130 }, (_, i) => asUser(db, user, 'select public.create_experience($1)', [`e${i}`], at)),
      120,
      SqlState.rateLimited,
      /^rate limit exceeded for writes: try again in \d+ seconds$/,
    );
    const { rows } = await db.query('select count(*)::int as n from public.experiences where user_id = $1', [user.id]);
    expect(rows[0].n).toBe(120);
  });

  it('invalidate the owner\'s cache tag once per row, whichever connection writes', async () => {
    const owner = await users.create();
    const other = await users.create();
    const tag = `user:${owner.id}`;
    const cached = async (key: string) =>
      (await asService<{ v: unknown }>(db, 'select public.get_cache($1) as v', [key])).rows[0]?.v;
    const version = async (t: string) =>
      (await db.query('select coalesce((select version from private.cache_tag_versions where tag = $1), 0)::int as v', [t]))
        .rows[0].v;
    const ownerKey = `vitest:derived:${owner.id}`;
    const otherKey = `vitest:derived:${other.id}`;
    try {
      await asService(db, 'select public.set_cache($1, $2, 300, array[$3])', [ownerKey, '{"n": 1}', tag]);
      await asService(db, 'select public.set_cache($1, $2, 300, array[$3])', [otherKey, '{"n": 2}', `user:${other.id}`]);
      const before = await version(tag);
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => asUser(db, owner, 'select public.create_experience($1)', [`parallel ${i}`])),
      );
      expect(await version(tag)).toBe(before + 10);
      expect(await cached(ownerKey)).toBeNull();
      expect(await cached(otherKey)).toEqual({ n: 2 });
    } finally {
      await db.query('delete from private.cache_entries where key = any($1)', [[ownerKey, otherKey]]);
      await db.query('delete from private.cache_tag_versions where tag = any($1)', [[tag, `user:${other.id}`]]);
    }
  });
});

describe('the zod contract agrees with the SQL checks', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['valid username', { p_username: 'good_name_1' }],
    ['username with a space', { p_username: 'bad name' }],
    ['username too short', { p_username: 'ab' }],
    ['username of 30', { p_username: 'x'.repeat(30) }],
    ['username of 31', { p_username: 'x'.repeat(31) }],
    ['unicode username', { p_username: 'héllo' }],
    ['display name of 100', { p_display_name: 'd'.repeat(100) }],
    ['display name of 101', { p_display_name: 'd'.repeat(101) }],
    ['padded display name', { p_display_name: `  ${'d'.repeat(100)}  ` }],
    ['https avatar', { p_avatar_url: 'https://cdn.example.com/a.png' }],
    ['cleared avatar', { p_avatar_url: '' }],
    ['ftp avatar', { p_avatar_url: 'ftp://example.com/a.png' }],
    ['avatar with a space', { p_avatar_url: 'https://example.com/a b.png' }],
    ['object metadata', { p_metadata: { theme: 'dark' } }],
    ['array metadata', { p_metadata: [1, 2] }],
  ];

  it.each(cases)('%s', async (_name, args) => {
    const user = await users.create();
    const { sql, params } = namedCall('public.update_my_profile', args, ['p_metadata']);
    await expectZodAgreesWithSql(updateMyProfileArgs, args, asUser(db, user, sql, params));
  });
});
