// The PostgREST conformance suite: one check per case of
// tests/support/conformance.ts (the case list, with each case's PostgREST
// source and whether the gateway answers the same or 501 LOCAL501). Every
// expectation is PostgREST's (v14), read from its spec files and source, so
// the suite passes against `supabase start` for the `same` cases too.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anonClient, apiUrl, keys, serviceClient, userClient } from './support/api.ts';
import { cases, filterCases, fixtureRows, orderCases, type QueryCase } from './support/conformance.ts';
import { testDatabase, type TestUser } from './support/db.ts';

const { db, users } = testDatabase(4);
const tag = `cf_${randomUUID().slice(0, 8)}`;
const named = (s: string) => `${tag}_${s}`;

const rowsFn = named('rows'); // RETURNS TABLE over fixtureRows
const itemsTable = named('items'); // fixtureRows plus meta jsonb
const itemsView = named('items_view');
const childrenTable = named('children'); // references items (for embedding)
const bigTable = named('big'); // 1200 rows, analyzed
const writesTable = named('writes'); // mutations, one batch per case
const ownedTable = named('owned'); // RLS: owner = auth.uid()
const columnsTable = named('cols'); // column grants

let alice: TestUser;
let bob: TestUser;

const fixtureValues = fixtureRows
  .map((r) => `(${r.id}, '${r.name}', ${r.score ?? 'null'}, ${r.flag ?? 'null'})`)
  .join(', ');

beforeAll(async () => {
  alice = await users.create();
  bob = await users.create();
  await db.query(`
    create function public.${rowsFn}() returns table (id integer, name text, score integer, flag boolean)
      language sql stable set search_path = '' as $$ select * from (values ${fixtureValues}) as v order by 1 $$;
    create function public.${named('rows_from')}(p_min integer) returns table (id integer, name text, score integer, flag boolean)
      language sql stable set search_path = '' as $$ select * from (values ${fixtureValues}) as v (id, name, score, flag) where v.id >= p_min $$;
    create function public.${named('add')}(a integer, b integer) returns integer
      language sql immutable set search_path = '' as $$ select a + b $$;
    create function public.${named('many')}(p_n integer) returns table (n integer)
      language sql immutable set search_path = '' as $$ select g from generate_series(1, p_n) as g $$;
    create function public.${named('out1')}(p_num integer, out num_plus_one integer)
      language sql immutable set search_path = '' as $$ select p_num + 1 $$;
    create function public.${named('inout1')}(inout num integer)
      language sql immutable set search_path = '' as $$ select num + 1 $$;
    create function public.${named('out2')}(out my_json json, out num integer, out str text)
      language sql immutable set search_path = '' as $$ select json_build_object('a', 1, 'b', 'two'), 3, 'four' $$;
    create function public.${named('table1')}() returns table (a text)
      language sql immutable set search_path = '' as $$ select 'A' $$;
    create function public.${named('cookies')}() returns void
      language sql stable set search_path = '' as $$
        select set_config('response.headers',
          '[{"Set-Cookie": "sessionid=38afes7a8; HttpOnly; Path=/"}, {"Set-Cookie": "id=a3fWa; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Secure; HttpOnly"}]', true) $$;
    create function public.${named('hello')}(name text) returns text
      language sql immutable set search_path = '' as $$ select 'Hello, ' || name $$;
    create function public.${named('charbit')}(p_c char(4), p_b bit(4)) returns text
      language sql immutable set search_path = '' as $$ select p_c::text || '|' || p_b::text $$;
    create function public.${named('variadic')}(variadic v text[] default '{}') returns text[]
      language sql immutable set search_path = '' as $$ select v $$;
    create function public.${named('raise_custom')}() returns void
      language plpgsql set search_path = '' as $$
        begin raise sqlstate 'PGRST' using
          message = '{"code":"123","message":"ABC","details":"DEF","hint":"XYZ"}',
          detail = '{"status":332,"status_text":"My Custom Status","headers":{"X-Header":"str"}}'; end $$;
    create function public.${named('raise_404')}() returns void
      language plpgsql set search_path = '' as $$
        begin raise sqlstate 'PGRST' using
          message = '{"code":"123","message":"ABC"}',
          detail = '{"status":404,"headers":{"X-Header":"str"}}'; end $$;
    create function public.${named('status')}(p_code text) returns text
      language sql stable set search_path = '' as $$ select set_config('response.status', p_code, true) $$;

    create table public.${itemsTable} (id integer primary key, name text not null, score integer, flag boolean, meta jsonb);
    insert into public.${itemsTable} select v.*, jsonb_build_object('k', v.id) from (values ${fixtureValues}) as v (id, name, score, flag);
    create view public.${itemsView} with (security_invoker = on) as select id, name, score, flag from public.${itemsTable};
    create table public.${childrenTable} (id integer primary key, item_id integer references public.${itemsTable} (id), label text);
    insert into public.${childrenTable} values (1, 1, 'first'), (2, 1, 'second');
    create function public.${named('items_fn')}() returns setof public.${itemsTable}
      language sql stable set search_path = '' as $$ select * from public.${itemsTable} $$;
    create sequence public.${named('counter_seq')};
    create view public.${named('counter')} with (security_invoker = on) as select nextval('public.${named('counter_seq')}') as n;
    create table public.${bigTable} (id integer primary key);
    insert into public.${bigTable} select generate_series(1, 1200);
    create table public.${writesTable} (
      id integer generated by default as identity primary key,
      batch text not null,
      label text not null,
      n integer default 7,
      via text default current_setting('request.method', true) || ' ' || current_setting('request.path', true) || ' ' || current_user,
      unique (batch, label));
    create table public.${ownedTable} (
      id integer generated by default as identity primary key,
      owner uuid not null default auth.uid(),
      body text);
    insert into public.${ownedTable} (owner, body) values ('${alice.id}', 'a1'), ('${alice.id}', 'a2'), ('${bob.id}', 'b1');
    create table public.${columnsTable} (id integer primary key, name text, secret text);
    insert into public.${columnsTable} values (1, 'x', 'hidden');

    alter table public.${itemsTable} enable row level security;
    alter table public.${childrenTable} enable row level security;
    alter table public.${bigTable} enable row level security;
    alter table public.${writesTable} enable row level security;
    alter table public.${ownedTable} enable row level security;
    alter table public.${columnsTable} enable row level security;
    create policy readable on public.${itemsTable} for select to anon, authenticated using (true);
    create policy readable on public.${childrenTable} for select to anon, authenticated using (true);
    create policy readable on public.${bigTable} for select to anon, authenticated using (true);
    create policy writable on public.${writesTable} for all to anon, authenticated using (true) with check (true);
    create policy own_rows on public.${ownedTable} for all to authenticated
      using (owner = (select auth.uid())) with check (owner = (select auth.uid()));
    create policy readable on public.${columnsTable} for select to anon, authenticated using (true);

    grant select on public.${itemsTable}, public.${itemsView}, public.${childrenTable}, public.${bigTable}
      to anon, authenticated, service_role;
    grant select, insert, update, delete on public.${writesTable} to anon, authenticated, service_role;
    grant select on public.${named('counter')} to anon, authenticated, service_role;
    grant usage on sequence public.${named('counter_seq')} to anon, authenticated, service_role;
    grant select, insert, update, delete on public.${ownedTable} to authenticated, service_role;
    grant select (id, name) on public.${columnsTable} to anon, authenticated;
    analyze public.${bigTable};
    notify pgrst, 'reload schema';
  `);
});

afterAll(async () => {
  await db.query(`drop view if exists public.${itemsView}, public.${named('counter')}`);
  await db.query(`drop sequence if exists public.${named('counter_seq')}`);
  const { rows } = await db.query(
    `select p.oid::regprocedure::text as sig from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'public' and p.proname like $1`, [`${tag}_%`]);
  for (const r of rows) await db.query(`drop function ${r.sig}`);
  await db.query(`drop table if exists ${[childrenTable, itemsTable, bigTable, writesTable, ownedTable, columnsTable]
    .map((t) => `public.${t}`).join(', ')}`);
});

// --- requests ------------------------------------------------------------

interface Reply {
  status: number;
  statusText: string;
  headers: Headers;
  text: string;
  body: unknown;
}

interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/**
 * A raw request to `/rest/v1<path>` as anon (the publishable key), as curl
 * would send it; signed-in users go through supabase-js clients.
 */
async function rest(path: string, opts: RequestOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { apikey: keys.publishableKey, ...opts.headers };
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${apiUrl}/rest/v1${path}`, { method: opts.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, statusText: res.statusText, headers: res.headers, text, body: parsed };
}

const ids = (body: unknown) => (body as Array<{ id: number }>).map((r) => r.id);

function expectRows(res: Reply, expected: number[], contentRange?: string): void {
  expect(res.body, res.text).toBeInstanceOf(Array);
  expect(ids(res.body)).toEqual(expected);
  if (contentRange) expect(res.headers.get('content-range')).toBe(contentRange);
}

function expectError(res: Reply, status: number, error: { code: string; message?: string; details?: string | null; hint?: string | null }): void {
  expect({ status: res.status, body: res.body }).toMatchObject({ status, body: error });
}

function expectLocal501(res: Reply, feature: RegExp): void {
  expect(res.status, res.text).toBe(501);
  expect(res.body).toMatchObject({ code: 'LOCAL501' });
  expect((res.body as { message: string }).message).toMatch(feature);
}

const rangeNotSatisfiable = (details: string) => ({ code: 'PGRST103', message: 'Requested range not satisfiable', details, hint: null });
const countExact = { prefer: 'count=exact' };

// --- the two query targets: rows() through POST and GET, and the items table

/** Reads a target with a query string: every way the target answers (RPC: POST and GET). */
type Read = (query: string, headers?: Record<string, string>) => Promise<Reply>;

interface Target {
  prefix: 'rpc' | 'table';
  reads: Read[];
  get: Read;
  head: Read;
}

const rpcGet: Read = (q, headers) => rest(`/rpc/${rowsFn}?${q}`, { headers });
const rpcPost: Read = (q, headers) => rest(`/rpc/${rowsFn}?${q}`, { method: 'POST', body: {}, headers });
const tableGet: Read = (q, headers) => rest(`/${itemsTable}?${q}`, { headers });

const targets: Target[] = [
  {
    prefix: 'rpc',
    reads: [rpcPost, rpcGet],
    get: rpcGet,
    head: (q, headers) => rest(`/rpc/${rowsFn}?${q}`, { method: 'HEAD', headers }),
  },
  {
    prefix: 'table',
    reads: [tableGet],
    get: tableGet,
    head: (q, headers) => rest(`/${itemsTable}?${q}`, { method: 'HEAD', headers }),
  },
];

const withOrder = (q: string) => (/(^|&)order=/.test(q) ? q : `${q}&order=id`);

async function expectQueryCase(target: Target, c: QueryCase): Promise<void> {
  for (const read of target.reads) {
    for (const [query, expected] of c.queries) {
      const res = await read(`select=id&${withOrder(query)}`);
      expect(res.status, `${query}: ${res.text}`).toBe(200);
      expect(ids(res.body), query).toEqual(expected);
    }
  }
}

// --- checks, by case id ----------------------------------------------------

const checks = new Map<string, () => Promise<void>>();
const check = (id: string, run: () => Promise<void>) => {
  if (checks.has(id)) throw new Error(`two checks for ${id}`);
  checks.set(id, run);
};

/** The checks every target answers alike: `rpc.<key>` and `table.<key>`. */
function sharedChecks(target: Target): void {
  const { prefix } = target;
  const eachRead = async (query: string, headers: Record<string, string> | undefined, assert: (res: Reply) => void) => {
    for (const read of target.reads) assert(await read(query, headers));
  };
  for (const c of [...filterCases, ...orderCases]) check(`${prefix}.${c.key}`, () => expectQueryCase(target, c));

  check(`${prefix}.select.columns`, () => eachRead('select=id,name&id=lt.3&order=id', undefined, (res) => {
    expect(res.status).toBe(200);
    expect(res.body).toEqual([{ id: 1, name: 'apple' }, { id: 2, name: 'Banana' }]);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  }));
  check(`${prefix}.select.alias`, () => eachRead('select=key:id,label:name&id=eq.1', undefined, (res) => {
    expect(res.body).toEqual([{ key: 1, label: 'apple' }]);
  }));
  check(`${prefix}.select.cast`, () => eachRead('select=id,score::text&id=eq.1', undefined, (res) => {
    expect(res.body).toEqual([{ id: 1, score: '10' }]);
  }));
  check(`${prefix}.select.unknown_column`, () => eachRead('select=id,nope', undefined, (res) => {
    expectError(res, 400, { code: '42703' });
  }));
  check(`${prefix}.limit_offset`, () => eachRead('select=id&order=id&limit=2&offset=1', undefined, (res) => {
    expect(res.status).toBe(200);
    expectRows(res, [2, 3], '1-2/*');
  }));
  check(`${prefix}.limit_zero`, () => eachRead('select=id&limit=0', undefined, (res) => {
    expect(res.status).toBe(200);
    expectRows(res, [], '*/*');
  }));
  check(`${prefix}.offset_past_end`, () => eachRead('select=id&order=id&offset=10', undefined, (res) => {
    expect(res.status).toBe(200);
    expectRows(res, [], '*/*');
  }));
  check(`${prefix}.range_header`, async () => {
    const closed = await target.get('select=id&order=id', { range: '1-2' });
    expect(closed.status).toBe(200);
    expectRows(closed, [2, 3], '1-2/*');
    const open = await target.get('select=id&order=id', { range: '3-' });
    expect(open.status).toBe(200);
    expectRows(open, [4, 5], '3-4/*');
  });
  check(`${prefix}.range_header_and_limit`, async () => {
    expectRows(await target.get('select=id&order=id&limit=3', { range: '0-1' }), [1, 2], '0-1/*');
    expectRows(await target.get('select=id&order=id&limit=1', { range: '0-3' }), [1], '0-0/*');
  });
  check(`${prefix}.range.negative_limit`, () => eachRead('select=id&limit=-1', undefined, (res) => {
    expectError(res, 416, rangeNotSatisfiable('Limit should be greater than or equal to zero.'));
  }));
  check(`${prefix}.range.inverted`, async () => {
    expectError(await target.get('select=id', { range: '2-1' }), 416,
      rangeNotSatisfiable('The lower boundary must be lower than or equal to the upper boundary in the Range header.'));
  });
  check(`${prefix}.range.unsatisfiable`, () => eachRead('select=id&offset=10', countExact, (res) => {
    expectError(res, 416, rangeNotSatisfiable('An offset of 10 was requested, but there are only 5 rows.'));
    expect(res.headers.get('content-range')).toBe('*/5');
  }));
  check(`${prefix}.count.exact_partial`, () => eachRead('select=id&order=id&limit=2', countExact, (res) => {
    expect(res.status).toBe(206);
    expectRows(res, [1, 2], '0-1/5');
  }));
  check(`${prefix}.count.exact_full`, () => eachRead('select=id&order=id', countExact, (res) => {
    expect(res.status).toBe(200);
    expectRows(res, [1, 2, 3, 4, 5], '0-4/5');
  }));
  check(`${prefix}.count.exact_tail`, () => eachRead('select=id&order=id&offset=3', countExact, (res) => {
    expect(res.status).toBe(206);
    expectRows(res, [4, 5], '3-4/5');
  }));
  check(`${prefix}.count.empty`, () => eachRead('select=id&id=gt.100', countExact, (res) => {
    expect(res.status).toBe(200);
    expectRows(res, [], '*/0');
  }));
  check(`${prefix}.count.estimated_small`, () => eachRead('select=id&order=id&limit=2', { prefer: 'count=estimated' }, (res) => {
    expect(res.status).toBe(206);
    expectRows(res, [1, 2], '0-1/5');
  }));
  check(`${prefix}.count.head`, async () => {
    const raw = await target.head('select=id', countExact);
    expect({ status: raw.status, text: raw.text, range: raw.headers.get('content-range'), type: raw.headers.get('content-type') })
      .toEqual({ status: 200, text: '', range: '0-4/5', type: 'application/json; charset=utf-8' });
    const client = anonClient();
    const viaJs = prefix === 'rpc'
      ? await client.rpc(rowsFn, {}, { head: true, count: 'exact' })
      : await client.from(itemsTable).select('*', { head: true, count: 'exact' });
    expect(viaJs).toMatchObject({ status: 200, count: 5, data: null, error: null });
    const filtered = prefix === 'rpc'
      ? await client.rpc(rowsFn, {}, { head: true, count: 'exact' }).eq('flag', true)
      : await client.from(itemsTable).select('*', { head: true, count: 'exact' }).eq('flag', true);
    expect(filtered.count).toBe(2);
  });
  check(`${prefix}.count.preference_applied`, () => eachRead('select=id', countExact, (res) => {
    expect(res.headers.get('preference-applied')).toBe('count=exact');
  }));
  check(`${prefix}.repeated_params`, () => eachRead('select=id&select=name&order=id&limit=3&limit=1', undefined, (res) => {
    expect({ status: res.status, body: res.body, range: res.headers.get('content-range') })
      .toEqual({ status: 200, body: [{ id: 1 }], range: '0-0/*' });
  }));
  check(`${prefix}.supabase_js_chain`, async () => {
    const client = anonClient();
    const results = prefix === 'rpc'
      ? await Promise.all([false, true].map((get) => client.rpc(rowsFn, {}, { count: 'exact', get }).select('id,name')
        .gte('score', 20).order('id', { ascending: false }).limit(1).range(1, 2)))
      : [await client.from(itemsTable).select('id,name', { count: 'exact' })
        .gte('score', 20).order('id', { ascending: false }).limit(1).range(1, 2)];
    for (const res of results) {
      expect(res).toMatchObject({ status: 206, count: 3, error: null });
      expect(res.data).toEqual([{ id: 4, name: 'date' }, { id: 2, name: 'Banana' }]);
    }
  });
}
targets.forEach(sharedChecks);

// RPC only
check('rpc.args_and_filters', async () => {
  expectRows(await rest(`/rpc/${named('rows_from')}?p_min=2&id=lt.4&select=id&order=id`), [2, 3]);
  expectRows(await rest(`/rpc/${named('rows_from')}?id=lt.4&select=id&order=id`, { body: { p_min: 2 } }), [2, 3]);
});
check('rpc.range_header_post', async () => {
  const res = await rpcPost('select=id&order=id', { range: '1-1', ...countExact });
  expect(res.status).toBe(200);
  expectRows(res, [1, 2, 3, 4, 5], '0-4/5');
});
check('rpc.count.planned', async () => {
  for (const read of [rpcPost, rpcGet]) {
    const res = await read('select=id&order=id', { prefer: 'count=planned' });
    expect(res.status).toBe(200);
    expectRows(res, [1, 2, 3, 4, 5], '0-4/*');
  }
});
check('rpc.count.scalar', async () => {
  const res = await rest(`/rpc/${named('add')}?a=3&b=4`, { headers: countExact });
  expect({ status: res.status, body: res.body, range: res.headers.get('content-range') }).toEqual({ status: 200, body: 7, range: '0-0/1' });
});
check('rpc.supabase_js_get', async () => {
  const client = anonClient();
  for (const get of [false, true]) {
    const res = await client.rpc(rowsFn, {}, { get }).select('id').eq('flag', true).order('id', { ascending: false }).limit(1);
    expect(res).toMatchObject({ status: 200, error: null, data: [{ id: 4 }] });
  }
});

// max_rows
const many = (q: string, headers?: Record<string, string>) => rest(`/rpc/${named('many')}?p_n=1500&order=n&${q}`, { headers });
const manyPost = (q: string, headers?: Record<string, string>) =>
  rest(`/rpc/${named('many')}?order=n&${q}`, { body: { p_n: 1500 }, headers });
const ns = (body: unknown) => (body as Array<{ n: number }>).map((r) => r.n);

function expectSpan(res: Reply, first: number, last: number, contentRange: string): void {
  const got = ns(res.body);
  expect({ length: got.length, first: got[0], last: got.at(-1), range: res.headers.get('content-range') })
    .toEqual({ length: last - first + 1, first, last, range: contentRange });
}

check('max_rows.rpc', async () => {
  for (const call of [many, manyPost]) {
    const res = await call('');
    expect(res.status).toBe(200);
    expectSpan(res, 1, 1000, '0-999/*');
  }
});
check('max_rows.rpc_count', async () => {
  const res = await many('', countExact);
  expect(res.status).toBe(206);
  expectSpan(res, 1, 1000, '0-999/1500');
});
check('max_rows.limit', async () => {
  expectSpan(await many('limit=10'), 1, 10, '0-9/*');
  expectSpan(await many('limit=1200'), 1, 1000, '0-999/*');
});
check('max_rows.offset', async () => {
  expectSpan(await many('offset=900'), 901, 1500, '900-1499/*');
});
check('max_rows.table', async () => {
  const plain = await rest(`/${bigTable}?select=id&order=id`);
  expect(plain.status).toBe(200);
  expect({ length: ids(plain.body).length, last: ids(plain.body).at(-1), range: plain.headers.get('content-range') })
    .toEqual({ length: 1000, last: 1000, range: '0-999/*' });
  const counted = await rest(`/${bigTable}?select=id&order=id`, { headers: countExact });
  expect(counted.status).toBe(206);
  expect(counted.headers.get('content-range')).toBe('0-999/1200');
});
check('max_rows.count_planned', async () => {
  const res = await rest(`/${bigTable}?select=id&limit=10`, { headers: { prefer: 'count=planned' } });
  expect(res.status).toBe(206);
  expect(res.headers.get('content-range')).toBe('0-9/1200');
});
check('max_rows.count_estimated', async () => {
  const res = await rest(`/${bigTable}?select=id&limit=10`, { headers: { prefer: 'count=estimated' } });
  expect(res.status).toBe(206);
  expect(res.headers.get('content-range')).toBe('0-9/1200');
});
check('max_rows.mutations', async () => {
  const batch = 'max_rows.mutations';
  const rows = Array.from({ length: 1100 }, (_, i) => ({ batch, label: `r${i}` }));
  const rep = { prefer: 'return=representation' };
  const inserted = await rest(`/${writesTable}?select=label`, { body: rows, headers: rep });
  expect({ status: inserted.status, length: (inserted.body as unknown[]).length }).toEqual({ status: 201, length: 1100 });
  const updated = await rest(`/${writesTable}?batch=eq.${batch}&select=label`, { method: 'PATCH', body: { n: 1 }, headers: rep });
  expect({ status: updated.status, length: (updated.body as unknown[]).length }).toEqual({ status: 200, length: 1100 });
  const deleted = await rest(`/${writesTable}?batch=eq.${batch}&select=label`, { method: 'DELETE', headers: rep });
  expect({ status: deleted.status, length: (deleted.body as unknown[]).length }).toEqual({ status: 200, length: 1100 });
});

// Shapes
check('shape.single_out', async () => {
  expect(await anonClient().rpc(named('out1'), { p_num: 5 })).toMatchObject({ status: 200, data: { num_plus_one: 6 } });
  expect((await rest(`/rpc/${named('out1')}?p_num=5`)).body).toEqual({ num_plus_one: 6 });
});
check('shape.single_inout', async () => {
  expect(await anonClient().rpc(named('inout1'), { num: 2 })).toMatchObject({ status: 200, data: { num: 3 } });
});
check('shape.many_out', async () => {
  expect((await anonClient().rpc(named('out2'))).data).toEqual({ my_json: { a: 1, b: 'two' }, num: 3, str: 'four' });
});
check('shape.table_one_column', async () => {
  expect((await anonClient().rpc(named('table1'))).data).toEqual([{ a: 'A' }]);
});
check('shape.set_cookie_twice', async () => {
  for (const method of ['GET', 'POST']) {
    const res = await rest(`/rpc/${named('cookies')}`, method === 'POST' ? { body: {} } : {});
    expect(res.status).toBe(204);
    expect(res.headers.getSetCookie()).toEqual([
      'sessionid=38afes7a8; HttpOnly; Path=/',
      'id=a3fWa; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Secure; HttpOnly',
    ]);
  }
});
check('shape.repeated_param', async () => {
  expect((await rest(`/rpc/${named('hello')}?name=ignored&name=world`)).body).toBe('Hello, world');
});
check('shape.char_bit_args', async () => {
  const viaGet = await rest(`/rpc/${named('charbit')}?p_c=abcdefg&p_b=101010`);
  expect({ status: viaGet.status, body: viaGet.body }).toEqual({ status: 200, body: 'abcdefg|101010' });
  const viaPost = await rest(`/rpc/${named('charbit')}`, { body: { p_c: 'abcdefg', p_b: '101010' } });
  expect({ status: viaPost.status, body: viaPost.body }).toEqual({ status: 200, body: 'abcdefg|101010' });
});
check('shape.variadic_get', async () => {
  const fn = `/rpc/${named('variadic')}`;
  expect((await rest(fn)).body).toEqual([]);
  expect((await rest(`${fn}?v=hi`)).body).toEqual(['hi']);
  expect((await rest(`${fn}?v=hi&v=there`)).body).toEqual(['hi', 'there']);
  expect((await rest(fn, { body: { v: ['hi', 'hello', 'there'] } })).body).toEqual(['hi', 'hello', 'there']);
});
check('shape.status_text', async () => {
  const custom = await rest(`/rpc/${named('raise_custom')}`);
  expect({ status: custom.status, statusText: custom.statusText, header: custom.headers.get('x-header'), body: custom.body }).toEqual({
    status: 332, statusText: 'My Custom Status', header: 'str', body: { code: '123', message: 'ABC', details: 'DEF', hint: 'XYZ' },
  });
  const standard = await rest(`/rpc/${named('raise_404')}`);
  expect({ status: standard.status, statusText: standard.statusText, body: standard.body }).toEqual({
    status: 404, statusText: 'Not Found', body: { code: '123', message: 'ABC', details: null, hint: null },
  });
});
check('shape.response_status_text', async () => {
  const known = await rest(`/rpc/${named('status')}?p_code=418`);
  expect({ status: known.status, statusText: known.statusText }).toEqual({ status: 418, statusText: "I'm a teapot" });
  const unknown = await rest(`/rpc/${named('status')}?p_code=332`);
  expect({ status: unknown.status, statusText: unknown.statusText }).toEqual({ status: 332, statusText: '' });
});

// Table reads
check('table.select.star', async () => {
  expect((await tableGet('select=*&id=eq.1')).body).toEqual([{ id: 1, name: 'apple', score: 10, flag: true, meta: { k: 1 } }]);
  expect((await anonClient().from(itemsTable).select().eq('id', 1)).data).toEqual([{ id: 1, name: 'apple', score: 10, flag: true, meta: { k: 1 } }]);
});
check('table.single', async () => {
  const client = anonClient();
  expect(await client.from(itemsTable).select('id,name').eq('id', 1).single())
    .toMatchObject({ status: 200, data: { id: 1, name: 'apple' }, error: null });
  const cannotCoerce = (n: number) => ({ code: 'PGRST116', message: 'Cannot coerce the result to a single JSON object', details: `The result contains ${n} rows`, hint: null });
  const two = await client.from(itemsTable).select('id').lt('id', 3).single();
  expect({ status: two.status, error: two.error }).toEqual({ status: 406, error: cannotCoerce(2) });
  const none = await client.from(itemsTable).select('id').eq('id', 99).single();
  expect({ status: none.status, error: none.error }).toEqual({ status: 406, error: cannotCoerce(0) });
});
check('table.maybe_single', async () => {
  const client = anonClient();
  expect(await client.from(itemsTable).select('id').eq('id', 99).maybeSingle()).toMatchObject({ status: 200, data: null, error: null });
  expect(await client.from(itemsTable).select('id').eq('id', 1).maybeSingle()).toMatchObject({ status: 200, data: { id: 1 }, error: null });
});
check('table.not_found', async () => {
  expectError(await rest(`/${named('missing')}`), 404,
    { code: 'PGRST205', message: `Could not find the table 'public.${named('missing')}' in the schema cache` });
});
check('table.read_only', async () => {
  expectError(await rest(`/${named('counter')}`), 405,
    { code: '25006', message: 'cannot execute nextval() in a read-only transaction', details: null, hint: null });
});
check('table.strip_nulls', async () => {
  const array = { accept: 'application/vnd.pgrst.array+json;nulls=stripped' };
  const read = await tableGet('select=id,score,flag&id=in.(3,4)&order=id', array);
  expect(read).toMatchObject({ status: 200, body: [{ id: 3 }, { id: 4, score: 40, flag: true }] });
  expect(read.headers.get('content-type')).toBe('application/vnd.pgrst.array+json;nulls=stripped; charset=utf-8');
  expect(await rpcPost('select=id,score&id=eq.3', array)).toMatchObject({ status: 200, body: [{ id: 3 }] });
  const single = await tableGet('select=id,score&id=eq.3', { accept: 'application/vnd.pgrst.object+json;nulls=stripped' });
  expect(single).toMatchObject({ status: 200, body: { id: 3 } });
  expect(single.headers.get('content-type')).toBe('application/vnd.pgrst.object+json;nulls=stripped; charset=utf-8');
  const written = await rest(`/${writesTable}?select=label,n`, {
    method: 'POST', body: { batch: 'table.strip_nulls', label: 'a', n: null }, headers: { ...array, prefer: 'return=representation' },
  });
  expect(written).toMatchObject({ status: 201, body: [{ label: 'a' }] });
});
check('table.view', async () => {
  const res = await rest(`/${itemsView}?select=id&flag=is.true&order=id.desc`, { headers: countExact });
  expect(res.status).toBe(200);
  expectRows(res, [4, 1], '0-1/2');
});

// Table writes: each case works on its own batch of `writes`.
const batchRows = async (batch: string) =>
  (await db.query(`select label, n from public.${writesTable} where batch = $1 order by label`, [batch])).rows;
const seed = (batch: string, rows: Array<[string, number]>) =>
  db.query(`insert into public.${writesTable} (batch, label, n) select $1, l, n from unnest($2::text[], $3::int[]) as u (l, n)`,
    [batch, rows.map((r) => r[0]), rows.map((r) => r[1])]);
const writes = () => anonClient().from(writesTable);
const byLabel = (data: unknown) => [...(data as Array<{ label: string }>)].sort((a, b) => a.label.localeCompare(b.label));

check('insert.minimal', async () => {
  const batch = 'insert.minimal';
  const res = await rest(`/${writesTable}`, { body: { batch, label: 'a' } });
  expect({ status: res.status, text: res.text, type: res.headers.get('content-type'), location: res.headers.get('location'), range: res.headers.get('content-range') })
    .toEqual({ status: 201, text: '', type: null, location: null, range: '*/*' });
  expect(await writes().insert({ batch, label: 'b' })).toMatchObject({ status: 201, data: null, error: null });
  expect(await batchRows(batch)).toEqual([{ label: 'a', n: 7 }, { label: 'b', n: 7 }]);
});
check('insert.representation', async () => {
  const batch = 'insert.representation';
  const res = await rest(`/${writesTable}?select=label,n`, { body: { batch, label: 'a' }, headers: { prefer: 'return=representation' } });
  expect({ status: res.status, body: res.body, applied: res.headers.get('preference-applied'), type: res.headers.get('content-type') })
    .toEqual({ status: 201, body: [{ label: 'a', n: 7 }], applied: 'return=representation', type: 'application/json; charset=utf-8' });
  expect(await writes().insert({ batch, label: 'b', n: 1 }).select('label,n'))
    .toMatchObject({ status: 201, data: [{ label: 'b', n: 1 }], error: null });
});
check('insert.bulk', async () => {
  const batch = 'insert.bulk';
  const res = await writes().insert([{ batch, label: 'a', n: 1 }, { batch, label: 'b', n: 2 }]).select('label,n');
  expect(res.status).toBe(201);
  expect(byLabel(res.data)).toEqual([{ label: 'a', n: 1 }, { label: 'b', n: 2 }]);
});
check('insert.headers_only', async () => {
  const batch = 'insert.headers_only';
  const res = await rest(`/${writesTable}`, { body: { batch, label: 'a' }, headers: { prefer: 'return=headers-only' } });
  const { rows } = await db.query(`select id from public.${writesTable} where batch = $1`, [batch]);
  expect({ status: res.status, text: res.text, location: res.headers.get('location'), range: res.headers.get('content-range'), applied: res.headers.get('preference-applied') })
    .toEqual({ status: 201, text: '', location: `/${writesTable}?id=eq.${rows[0]?.id}`, range: '*/*', applied: 'return=headers-only' });
});
check('insert.count', async () => {
  const res = await rest(`/${writesTable}?select=label`, { body: { batch: 'insert.count', label: 'a' }, headers: { prefer: 'return=representation, count=exact' } });
  expect({ status: res.status, range: res.headers.get('content-range'), applied: res.headers.get('preference-applied') })
    .toEqual({ status: 201, range: '*/1', applied: 'return=representation, count=exact' });
});
check('insert.missing_default', async () => {
  const batch = 'insert.missing_default';
  const res = await writes().insert([{ batch, label: 'x' }, { batch, label: 'y', n: 3 }], { defaultToNull: false }).select('label,n');
  expect(res.status).toBe(201);
  expect(byLabel(res.data)).toEqual([{ label: 'x', n: 7 }, { label: 'y', n: 3 }]);
  const raw = await rest(`/${writesTable}?columns=batch,label,n&select=label,n`, {
    body: [{ batch, label: 'z' }], headers: { prefer: 'return=representation, missing=default' },
  });
  expect({ body: raw.body, applied: raw.headers.get('preference-applied') })
    .toEqual({ body: [{ label: 'z', n: 7 }], applied: 'missing=default, return=representation' });
});
check('insert.missing_null', async () => {
  const batch = 'insert.missing_null';
  const res = await writes().insert([{ batch, label: 'x' }, { batch, label: 'y', n: 3 }]).select('label,n');
  expect(res.status).toBe(201);
  expect(byLabel(res.data)).toEqual([{ label: 'x', n: null }, { label: 'y', n: 3 }]);
});
check('insert.single', async () => {
  expect(await writes().insert({ batch: 'insert.single', label: 'a' }).select('label,n').single())
    .toMatchObject({ status: 201, data: { label: 'a', n: 7 }, error: null });
});
check('insert.conflict', async () => {
  const batch = 'insert.conflict';
  await seed(batch, [['a', 1]]);
  const res = await writes().insert({ batch, label: 'a' });
  expect({ status: res.status, error: res.error }).toEqual({
    status: 409,
    error: {
      code: '23505',
      message: `duplicate key value violates unique constraint "${writesTable}_batch_label_key"`,
      // PostgreSQL leaves the key out of the detail on a table under RLS
      // (BuildIndexValueDescription), under PostgREST as here.
      details: null,
      hint: null,
    },
  });
});
check('insert.not_null', async () => {
  const res = await writes().insert({ batch: 'insert.not_null' });
  expect(res.status).toBe(400);
  expect(res.error).toMatchObject({ code: '23502', message: `null value in column "label" of relation "${writesTable}" violates not-null constraint` });
});
check('insert.unknown_column', async () => {
  const notFound = { code: 'PGRST204', message: `Could not find the 'nope' column of '${writesTable}' in the schema cache`, details: null, hint: null };
  const inserted = await writes().insert({ batch: 'insert.unknown_column', label: 'a', nope: 1 });
  expect({ status: inserted.status, error: inserted.error }).toEqual({ status: 400, error: notFound });
  const updated = await writes().update({ nope: 1 }).eq('batch', 'insert.unknown_column');
  expect({ status: updated.status, error: updated.error }).toEqual({ status: 400, error: notFound });
});
check('insert.invalid_json', async () => {
  expectError(await rest(`/${writesTable}`, { body: '}{ x = 2' }), 400,
    { code: 'PGRST102', message: 'Empty or invalid json', details: null, hint: null });
});
check('upsert.merge_update', async () => {
  const batch = 'upsert.merge_update';
  await seed(batch, [['a', 1]]);
  expect(await writes().upsert({ batch, label: 'a', n: 9 }, { onConflict: 'batch,label' }).select('label,n'))
    .toMatchObject({ status: 200, data: [{ label: 'a', n: 9 }], error: null });
  expect(await batchRows(batch)).toEqual([{ label: 'a', n: 9 }]);
});
check('upsert.merge_insert', async () => {
  const batch = 'upsert.merge_insert';
  const res = await rest(`/${writesTable}?on_conflict=batch,label&select=label,n`, {
    body: [{ batch, label: 'new', n: 1 }], headers: { prefer: 'resolution=merge-duplicates, return=representation' },
  });
  expect({ status: res.status, body: res.body, applied: res.headers.get('preference-applied') })
    .toEqual({ status: 201, body: [{ label: 'new', n: 1 }], applied: 'resolution=merge-duplicates, return=representation' });
});
check('upsert.ignore', async () => {
  const batch = 'upsert.ignore';
  await seed(batch, [['a', 1]]);
  const res = await writes()
    .upsert([{ batch, label: 'a', n: 9 }, { batch, label: 'b', n: 2 }], { onConflict: 'batch,label', ignoreDuplicates: true })
    .select('label,n');
  expect(res).toMatchObject({ status: 201, data: [{ label: 'b', n: 2 }], error: null });
  expect(await batchRows(batch)).toEqual([{ label: 'a', n: 1 }, { label: 'b', n: 2 }]);
});
check('upsert.no_constraint', async () => {
  const res = await writes().upsert({ batch: 'upsert.no_constraint', label: 'a' }, { onConflict: 'n' });
  expect({ status: res.status, error: res.error }).toMatchObject({
    status: 400, error: { code: '42P10', message: 'there is no unique or exclusion constraint matching the ON CONFLICT specification' },
  });
});
check('update.minimal', async () => {
  const batch = 'update.minimal';
  await seed(batch, [['a', 1], ['b', 2]]);
  const res = await rest(`/${writesTable}?batch=eq.${batch}`, { method: 'PATCH', body: { n: 5 } });
  expect({ status: res.status, text: res.text, range: res.headers.get('content-range') }).toEqual({ status: 204, text: '', range: '0-1/*' });
  expect(await writes().update({ n: 6 }).eq('batch', batch)).toMatchObject({ status: 204, data: null, error: null });
  expect(await batchRows(batch)).toEqual([{ label: 'a', n: 6 }, { label: 'b', n: 6 }]);
});
check('update.representation', async () => {
  const batch = 'update.representation';
  await seed(batch, [['a', 1], ['b', 2]]);
  const res = await writes().update({ n: 6 }).eq('batch', batch).select('label,n');
  expect(res.status).toBe(200);
  expect(byLabel(res.data)).toEqual([{ label: 'a', n: 6 }, { label: 'b', n: 6 }]);
});
check('update.none', async () => {
  expect(await writes().update({ n: 1 }).eq('batch', 'update.none')).toMatchObject({ status: 204, error: null });
  expect(await writes().update({ n: 1 }).eq('batch', 'update.none').select()).toMatchObject({ status: 200, data: [], error: null });
});
check('update.count', async () => {
  const batch = 'update.count';
  await seed(batch, [['a', 1], ['b', 2]]);
  const res = await rest(`/${writesTable}?batch=eq.${batch}`, { method: 'PATCH', body: { n: 5 }, headers: countExact });
  expect({ status: res.status, range: res.headers.get('content-range') }).toEqual({ status: 204, range: '0-1/2' });
});
check('update.no_filter', async () => {
  const batch = 'update.no_filter';
  await seed(batch, [['a', 1]]);
  const res = await writes().update({ n: 99 });
  expect({ status: res.status, error: res.error })
    .toEqual({ status: 400, error: { code: '21000', message: 'UPDATE requires a WHERE clause', details: null, hint: null } });
  expect(await batchRows(batch)).toEqual([{ label: 'a', n: 1 }]);
});
check('update.single_rollback', async () => {
  const batch = 'update.single_rollback';
  await seed(batch, [['a', 1], ['b', 2]]);
  const res = await writes().update({ n: 42 }).eq('batch', batch).select('n').single();
  expect({ status: res.status, error: res.error }).toEqual({
    status: 406,
    error: { code: 'PGRST116', message: 'Cannot coerce the result to a single JSON object', details: 'The result contains 2 rows', hint: null },
  });
  expect(await batchRows(batch)).toEqual([{ label: 'a', n: 1 }, { label: 'b', n: 2 }]);
});
check('delete.minimal', async () => {
  const batch = 'delete.minimal';
  await seed(batch, [['a', 1], ['b', 2]]);
  const res = await rest(`/${writesTable}?batch=eq.${batch}`, { method: 'DELETE' });
  expect({ status: res.status, text: res.text, range: res.headers.get('content-range') }).toEqual({ status: 204, text: '', range: '*/*' });
  expect(await batchRows(batch)).toEqual([]);
});
check('delete.representation', async () => {
  const batch = 'delete.representation';
  await seed(batch, [['a', 1], ['b', 2]]);
  const res = await rest(`/${writesTable}?batch=eq.${batch}&select=label`, { method: 'DELETE', headers: { prefer: 'return=representation, count=exact' } });
  expect({ status: res.status, range: res.headers.get('content-range'), applied: res.headers.get('preference-applied') })
    .toEqual({ status: 200, range: '*/2', applied: 'return=representation, count=exact' });
  expect(byLabel(res.body)).toEqual([{ label: 'a' }, { label: 'b' }]);
});
check('delete.no_filter', async () => {
  const batch = 'delete.no_filter';
  await seed(batch, [['a', 1]]);
  const res = await writes().delete();
  expect({ status: res.status, error: res.error })
    .toEqual({ status: 400, error: { code: '21000', message: 'DELETE requires a WHERE clause', details: null, hint: null } });
  expect(await batchRows(batch)).toEqual([{ label: 'a', n: 1 }]);
});

// Roles, RLS and grants
check('auth.request_settings', async () => {
  const anon = await rest(`/${writesTable}?select=via`, { body: { batch: 'auth.request_settings', label: 'a' }, headers: { prefer: 'return=representation' } });
  expect(anon.body).toEqual([{ via: `POST /${writesTable} anon` }]);
  const user = await (await userClient(alice)).from(writesTable).insert({ batch: 'auth.request_settings', label: 'b' }).select('via');
  expect(user.data).toEqual([{ via: `POST /${writesTable} authenticated` }]);
});
check('auth.rls_select', async () => {
  expect((await (await userClient(alice)).from(ownedTable).select('body').order('body')).data).toEqual([{ body: 'a1' }, { body: 'a2' }]);
  expect((await (await userClient(bob)).from(ownedTable).select('body')).data).toEqual([{ body: 'b1' }]);
  const service = await serviceClient().from(ownedTable).select('body').order('body');
  expect(service.data).toEqual([{ body: 'a1' }, { body: 'a2' }, { body: 'b1' }]);
});
check('auth.rls_update', async () => {
  const { rows } = await db.query(`select id from public.${ownedTable} where body = 'a1'`);
  const res = await (await userClient(bob)).from(ownedTable).update({ body: 'taken' }).eq('id', rows[0]?.id).select('body');
  expect(res).toMatchObject({ status: 200, data: [], error: null });
  expect((await db.query(`select body from public.${ownedTable} where id = $1`, [rows[0]?.id])).rows).toEqual([{ body: 'a1' }]);
});
check('auth.rls_check', async () => {
  const res = await (await userClient(bob)).from(ownedTable).insert({ owner: alice.id, body: 'planted' });
  expect(res.status).toBe(403);
  expect(res.error).toMatchObject({ code: '42501', message: `new row violates row-level security policy for table "${ownedTable}"` });
});
check('auth.table_grant', async () => {
  const res = await anonClient().from(ownedTable).select('body');
  expect(res.status).toBe(401);
  expect(res.error).toMatchObject({ code: '42501', message: `permission denied for table ${ownedTable}` });
});
check('auth.column_grant', async () => {
  const anon = anonClient();
  expect(await anon.from(columnsTable).select('id,name')).toMatchObject({ status: 200, data: [{ id: 1, name: 'x' }] });
  const denied = { code: '42501', message: `permission denied for table ${columnsTable}` };
  const anonSecret = await anon.from(columnsTable).select('id,secret');
  expect({ status: anonSecret.status, error: anonSecret.error }).toMatchObject({ status: 401, error: denied });
  const userStar = await (await userClient(alice)).from(columnsTable).select();
  expect({ status: userStar.status, error: userStar.error }).toMatchObject({ status: 403, error: denied });
});

// Refused features
check('unsupported.embed', async () => {
  expectLocal501(await tableGet(`select=id,${childrenTable}(label)`), /embed/i);
  expectLocal501(await tableGet(`select=*,${childrenTable}(*)`), /embed/i);
});
check('unsupported.embed_rpc', async () => {
  expectLocal501(await rest(`/rpc/${named('items_fn')}?select=id,${childrenTable}(label)`), /embed/i);
});
check('unsupported.spread', async () => {
  expectLocal501(await rest(`/${childrenTable}?select=label,...${itemsTable}(name)`), /spread/i);
});
check('table.json_path', async () => {
  expect(await tableGet('select=id,meta->k&id=lt.3&order=id')).toMatchObject({ status: 200, body: [{ id: 1, k: 1 }, { id: 2, k: 2 }] });
  expect(await tableGet('select=id&meta->>k=eq.4')).toMatchObject({ status: 200, body: [{ id: 4 }] });
});
check('table.fts', async () => {
  expect(await tableGet('select=id&name=fts.apple')).toMatchObject({ status: 200, body: [{ id: 1 }] });
  expect(await tableGet('select=id&name=wfts(simple).cherry')).toMatchObject({ status: 200, body: [{ id: 3 }] });
});
check('table.contains', async () => {
  expect(await tableGet('select=id&meta=cs.{"k":5}')).toMatchObject({ status: 200, body: [{ id: 5 }] });
});
check('unsupported.csv', async () => {
  expectLocal501(await tableGet('select=id', { accept: 'text/csv' }), /csv/i);
});
check('unsupported.put', async () => {
  expectLocal501(await rest(`/${itemsTable}?id=eq.9`, { method: 'PUT', body: { id: 9, name: 'fig' } }), /PUT/);
});
check('aggregates.disabled', async () => {
  const refused = { code: 'PGRST123', message: 'Use of aggregate functions is not allowed', details: null, hint: null };
  expectError(await tableGet('select=score.sum()'), 400, refused);
  expectError(await tableGet('select=count()'), 400, refused);
  expectError(await rpcPost('select=score.sum()'), 400, refused);
});

describe('PostgREST conformance (tests/support/conformance.ts)', () => {
  for (const c of cases) {
    it(`${c.id}: ${c.behaviour}`, async () => {
      const run = checks.get(c.id);
      if (!run) throw new Error(`no check for case ${c.id}`);
      await run();
    });
  }

  it('every check belongs to a listed case', () => {
    const listed = new Set(cases.map((c) => c.id));
    expect([...checks.keys()].filter((id) => !listed.has(id))).toEqual([]);
  });
});
