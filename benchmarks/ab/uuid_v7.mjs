// A/B: private.uuid_v7() as a `language sql` function (main 53ee963: with its
// SET clause it is neither inlined nor cached, so every call parses and plans
// its body) against the plpgsql body (the expression's plan kept for the
// session): a bare call, and as the primary key's default of a one-row insert
// (asynchronous commit, so the WAL flush does not hide the difference).
//   node benchmarks/ab.mjs benchmarks/ab/uuid_v7.mjs
import { oldDefinitionsSetup } from '../harness.mjs';

const before = process.env.AB_BEFORE ?? '53ee963';
const file = 'supabase/migrations/20261122010000_foundation.sql';

export const suites = [];
export const setup = `${oldDefinitionsSetup(before, file, ['private.uuid_v7'], { 'private.uuid_v7(': 'bench_old.uuid_v7(' })}
create schema if not exists bench;
create table bench.ids_new (id uuid primary key default private.uuid_v7(), n integer not null);
create table bench.ids_old (id uuid primary key default bench_old.uuid_v7(), n integer not null);
`;

const async = { role: 'postgres', settings: { synchronous_commit: 'off' } };

export const cases = [
  { name: 'new uuid_v7 (plpgsql): select', script: 'select private.uuid_v7();\n' },
  { name: 'old uuid_v7 (sql): select', script: 'select bench_old.uuid_v7();\n' },
  { name: 'new uuid_v7 (plpgsql): default of a one-row insert, async commit', script: 'insert into bench.ids_new (n) values (1);\n', session: async },
  { name: 'old uuid_v7 (sql): default of a one-row insert, async commit', script: 'insert into bench.ids_old (n) values (1);\n', session: async },
];
