// The local API gateway, through a real @supabase/supabase-js client: the
// PostgREST RPC behaviours this project's clients rely on (docs/functions.md
// has the conformance table). Every assertion here is PostgREST behaviour too,
// so these tests pass against `supabase start` as well, except that hosted's
// gateway (which this one follows) refuses a request without an API key.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  anonClient, apiUrl, clientWithAuthorization, keys, serviceClient, tokenFor, userClient,
} from './support/api.ts';
import { testDatabase, type TestUser } from './support/db.ts';

const { db, users } = testDatabase(4);
const tag = `gw_${randomUUID().slice(0, 8)}`;
const fn = (name: string) => `${tag}_${name}`;
let alice: TestUser;
let bob: TestUser;

// Fixture functions with the shapes and errors PostgREST distinguishes.
beforeAll(async () => {
  alice = await users.create();
  bob = await users.create();
  await db.query(`
    create function public.${fn('add')}(p_a integer, p_b integer default 2) returns integer
      language sql immutable set search_path = '' as $$ select p_a + p_b $$;
    -- no search_path of its own: it reports the one the request set
    create function public.${fn('request')}() returns jsonb
      language sql stable as $$
        select jsonb_build_object(
          'role', current_user,
          'claims', current_setting('request.jwt.claims', true)::jsonb,
          'method', current_setting('request.method', true),
          'path', current_setting('request.path', true),
          'headers', current_setting('request.headers', true)::jsonb,
          'read_only', current_setting('transaction_read_only'),
          'search_path', current_setting('search_path')) $$;
    create function public.${fn('fail')}() returns void
      language plpgsql set search_path = '' as $$
        begin raise exception 'it failed' using detail = 'some detail', hint = 'some hint'; end $$;
    create function public.${fn('teapot')}() returns text
      language plpgsql set search_path = '' as $$
        begin
          perform set_config('response.status', '418', true);
          perform set_config('response.headers', '[{"X-Custom":"yes"}]', true);
          return 'short and stout';
        end $$;
    create function public.${fn('payment_required')}() returns void
      language plpgsql set search_path = '' as $$
        begin raise sqlstate 'PT402' using message = 'pay first'; end $$;
    create function public.${fn('full_control')}() returns void
      language plpgsql set search_path = '' as $$
        begin raise sqlstate 'PGRST' using
          message = '{"code":"123","message":"custom","details":"d","hint":"h"}',
          detail = '{"status":420,"headers":{"X-Powered-By":"Nerd Rage"}}'; end $$;
    create function public.${fn('rows')}(p_n integer) returns table (n integer, label text)
      language sql stable set search_path = '' as $$ select g, 'row ' || g from generate_series(1, p_n) as g $$;
    create function public.${fn('noop')}() returns void
      language sql set search_path = '' as $$ select $$;
    create sequence private.${fn('seq')};
    create function public.${fn('bump')}() returns bigint
      language sql volatile set search_path = '' as $$ select nextval('private.${fn('seq')}') $$;
    create function public.${fn('ov')}(p_x integer) returns text language sql immutable set search_path = '' as $$ select 'int' $$;
    create function public.${fn('ov')}(p_x text) returns text language sql immutable set search_path = '' as $$ select 'text' $$;
    create function public.${fn('nums')}(p_xs integer[]) returns integer
      language sql immutable set search_path = '' as $$ select sum(x)::integer from unnest(p_xs) as x $$;
    create function public.${fn('json_arg')}(p_doc jsonb) returns jsonb
      language sql immutable set search_path = '' as $$ select p_doc -> 'a' $$;
    create function public.${fn('admin_only')}() returns text language sql stable set search_path = '' as $$ select 'secret' $$;
    revoke execute on function public.${fn('admin_only')}() from public;
    grant execute on function public.${fn('admin_only')}() to service_role;
    grant usage on sequence private.${fn('seq')} to anon, authenticated, service_role;
  `);
});

afterAll(async () => {
  const { rows } = await db.query(
    `select p.oid::regprocedure::text as sig from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'public' and p.proname like $1`, [`${tag}_%`]);
  for (const r of rows) await db.query(`drop function ${r.sig}`);
  await db.query(`drop sequence if exists private.${fn('seq')}`);
});

describe('RPC calls through supabase-js', () => {
  it('binds POST body keys to named arguments; omitted ones take their defaults', async () => {
    const client = await userClient(alice);
    expect(await client.rpc(fn('add'), { p_a: 40 })).toMatchObject({ data: 42, error: null, status: 200 });
    expect((await client.rpc(fn('add'), { p_a: 40, p_b: 5 })).data).toBe(45);
  });

  it('binds GET query parameters ({ get: true }) and arrays', async () => {
    const client = await userClient(alice);
    expect((await client.rpc(fn('add'), { p_a: 1, p_b: 1 }, { get: true })).data).toBe(2);
    expect((await client.rpc(fn('nums'), { p_xs: [1, 2, 3] })).data).toBe(6);
    expect((await client.rpc(fn('nums'), { p_xs: [4, 5] }, { get: true })).data).toBe(9);
    expect((await client.rpc(fn('json_arg'), { p_doc: { a: { b: 1 } } })).data).toEqual({ b: 1 });
  });

  it('runs as the JWT role with request.jwt.claims, method, path and headers set', async () => {
    const client = await userClient(alice);
    const { data, error } = await client.rpc(fn('request'));
    expect(error).toBeNull();
    expect(data.role).toBe('authenticated');
    expect(data.claims.sub).toBe(alice.id);
    expect(data.method).toBe('POST');
    expect(data.path).toBe(`/rpc/${fn('request')}`);
    expect(data.headers.apikey).toBe(keys.publishableKey);
    expect(data.headers['content-profile']).toBe('public');
    expect(data.search_path).toMatch(/^"?public"?, "?extensions"?$/);
  });

  it('runs GET and stable functions read-only, volatile POST read-write', async () => {
    const client = await userClient(alice);
    expect((await client.rpc(fn('request'))).data.read_only).toBe('on');
    expect((await client.rpc(fn('bump'))).status).toBe(200);
    const viaGet = await client.rpc(fn('bump'), {}, { get: true });
    expect(viaGet.status).toBe(405);
    expect(viaGet.error).toMatchObject({ code: '25006' });
  });

  it('maps the caller: publishable key -> anon, secret key -> service_role; no apikey is refused (401)', async () => {
    expect((await anonClient().rpc(fn('request'))).data.role).toBe('anon');
    expect((await serviceClient().rpc(fn('request'))).data.role).toBe('service_role');
    // Hosted Supabase's gateway requires an API key (supabase start's Kong
    // passes such a request on as anon); docs/functions.md "Keys and JWTs".
    const bare = await fetch(`${apiUrl}/rest/v1/rpc/${fn('request')}`, { method: 'POST' });
    expect(bare.status).toBe(401);
    expect(await bare.json()).toMatchObject({ message: 'No API key found in request' });
  });

  it('shapes results: scalar, array of objects, object with .single(), 204 for void', async () => {
    const client = await userClient(alice);
    const rows = await client.rpc(fn('rows'), { p_n: 2 });
    expect(rows.data).toEqual([{ n: 1, label: 'row 1' }, { n: 2, label: 'row 2' }]);
    expect((await client.rpc(fn('rows'), { p_n: 1 }).single()).data).toEqual({ n: 1, label: 'row 1' });
    const many = await client.rpc(fn('rows'), { p_n: 2 }).single();
    expect(many.status).toBe(406);
    expect(many.error).toMatchObject({ code: 'PGRST116', details: 'The result contains 2 rows' });
    expect(await client.rpc(fn('noop'))).toMatchObject({ data: null, error: null, status: 204 });
  });

  it('answers HEAD ({ head: true }) with the status and no body', async () => {
    const res = await (await userClient(alice)).rpc(fn('add'), { p_a: 1 }, { head: true });
    expect(res).toMatchObject({ status: 200, error: null, data: null });
  });

  it('overwrites the role claim with the role it switched to', async () => {
    const { data } = await serviceClient().rpc(fn('request'));
    expect(data.claims.role).toBe('service_role');
    expect(data.claims.iss).toBe('supabase-demo'); // the legacy service_role JWT the secret key maps to
  });

  it('returns a real project RPC (get_my_profile) for its owner', async () => {
    const client = await userClient(alice);
    const { data, error } = await client.rpc('get_my_profile');
    expect(error).toBeNull();
    expect(data).toMatchObject({ id: alice.id, email: alice.email });
  });
});

describe('errors as PostgREST reports them', () => {
  it('a plain RAISE (P0001) is 400 with code, message, details and hint', async () => {
    const { error, status } = await (await userClient(alice)).rpc(fn('fail'));
    expect(status).toBe(400);
    expect(error).toEqual({ code: 'P0001', message: 'it failed', details: 'some detail', hint: 'some hint' });
  });

  it('a privilege error is 401 for anon and 403 for a signed-in user', async () => {
    const anon = await anonClient().rpc('get_my_profile');
    expect(anon.status).toBe(401);
    expect(anon.error).toMatchObject({ code: '42501' });
    const user = await (await userClient(alice)).rpc(fn('admin_only'));
    expect(user.status).toBe(403);
    expect(user.error).toMatchObject({ code: '42501', message: `permission denied for function ${fn('admin_only')}` });
    expect((await serviceClient().rpc(fn('admin_only'))).data).toBe('secret');
  });

  it('an unknown function or argument set is 404 PGRST202', async () => {
    const client = await userClient(alice);
    const missing = await client.rpc(`${tag}_missing`);
    expect(missing.status).toBe(404);
    expect(missing.error).toMatchObject({ code: 'PGRST202' });
    const wrongArgs = await client.rpc(fn('add'), { p_a: 1, p_c: 2 });
    expect(wrongArgs.status).toBe(404);
    expect(wrongArgs.error?.message).toBe(`Could not find the function public.${fn('add')}(p_a, p_c) in the schema cache`);
  });

  it('bad input from a project RPC keeps its SQLSTATE (22023 -> 400)', async () => {
    const { error, status } = await (await userClient(bob)).rpc('update_my_profile', { p_username: 'x' });
    expect(status).toBe(400);
    expect(error).toMatchObject({ code: '22023' });
  });

  it('PTxyz sets the status; RAISE SQLSTATE PGRST sets status, body and headers', async () => {
    const client = await userClient(alice);
    const pt = await client.rpc(fn('payment_required'));
    expect(pt.status).toBe(402);
    expect(pt.error).toMatchObject({ code: 'PT402', message: 'pay first' });
    const res = await fetch(`${apiUrl}/rest/v1/rpc/${fn('full_control')}`, {
      method: 'POST',
      headers: { apikey: keys.publishableKey, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(420);
    expect(res.headers.get('x-powered-by')).toBe('Nerd Rage');
    expect(await res.json()).toEqual({ code: '123', message: 'custom', details: 'd', hint: 'h' });
  });

  it('response.status and response.headers set by the function are honoured', async () => {
    const res = await fetch(`${apiUrl}/rest/v1/rpc/${fn('teapot')}`, {
      method: 'POST',
      headers: { apikey: keys.publishableKey, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(418);
    expect(res.headers.get('x-custom')).toBe('yes');
    expect(await res.json()).toBe('short and stout');
  });

  it('ambiguous overloads are 300 PGRST203', async () => {
    const { status, error } = await (await userClient(alice)).rpc(fn('ov'), { p_x: 1 });
    expect(status).toBe(300);
    expect(error).toMatchObject({ code: 'PGRST203' });
  });

  it('a schema that is not exposed is 406 PGRST106', async () => {
    const client = await userClient(alice, { db: { schema: 'private' } });
    const { status, error } = await client.rpc('health_snapshot');
    expect(status).toBe(406);
    expect(error).toMatchObject({ code: 'PGRST106', message: 'Invalid schema: private' });
  });

  it('answers a browser preflight for RPC with the CORS headers supabase-js needs', async () => {
    const res = await fetch(`${apiUrl}/rest/v1/rpc/${fn('add')}`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST', 'access-control-request-headers': 'apikey, content-profile' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/apikey.*content-profile|content-profile.*apikey/);
  });

  it('invalid JSON is 400 PGRST102; other methods are 405 PGRST101', async () => {
    const bad = await fetch(`${apiUrl}/rest/v1/rpc/${fn('add')}`, {
      method: 'POST', headers: { apikey: keys.publishableKey, 'content-type': 'application/json' }, body: '{nope',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('PGRST102');
    const put = await fetch(`${apiUrl}/rest/v1/rpc/${fn('add')}`, { method: 'PUT', headers: { apikey: keys.publishableKey } });
    expect(put.status).toBe(405);
    expect(((await put.json()) as { code: string }).code).toBe('PGRST101');
  });
});

describe('JWT checks', () => {
  it('an expired token is 401 PGRST303', async () => {
    const token = await tokenFor(alice, { expired: true });
    const { status, error } = await clientWithAuthorization(`Bearer ${token}`).rpc(fn('request'));
    expect(status).toBe(401);
    expect(error).toMatchObject({ code: 'PGRST303', message: 'JWT expired' });
  });

  it('a token signed with another secret is 401 PGRST301 with WWW-Authenticate', async () => {
    const token = await tokenFor(alice, { forged: true });
    const res = await fetch(`${apiUrl}/rest/v1/rpc/${fn('request')}`, {
      method: 'POST', headers: { apikey: keys.publishableKey, authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect(((await res.json()) as { code: string }).code).toBe('PGRST301');
  });

  it('a garbage token is 401 PGRST301', async () => {
    const { status, error } = await clientWithAuthorization('Bearer not-a-jwt').rpc(fn('request'));
    expect(status).toBe(401);
    expect(error).toMatchObject({ code: 'PGRST301' });
  });
});
