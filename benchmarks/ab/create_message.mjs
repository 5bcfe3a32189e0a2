// A/B: public.create_message as it stood before issue 19 (main 53ee963: every
// call through private.check_message_fields, then a separate ownership select,
// then the insert) against the current body (one test admits the common
// message; the ownership check is the insert's own filter), both over the same
// tables, as the chat suite's server-side case calls it; and the current body
// against its function floor (the same row from a plpgsql function with no
// checks: the chat suite's bench_floor.insert_message), so that the ratio to
// the floor is read in the same interleaved run. Each pair twice: as the suite
// runs it (8 connections of user 2, durable commit: the calls queue on user
// 2's quota row, locked from the quota update to the commit, so the WAL flush
// sets the pace), and on one connection with asynchronous commit, where
// neither the flush nor that lock hides the CPU cost of the call.
//   node benchmarks/ab.mjs benchmarks/ab/create_message.mjs
import { benchUserId, oldDefinitionsSetup } from '../harness.mjs';

const before = process.env.AB_BEFORE ?? '53ee963';
const file = 'supabase/migrations/20261122020000_chat.sql';

export const suites = ['chat'];
export const setup = oldDefinitionsSetup(before, file, ['public.create_message'], { 'public.create_message(': 'bench_old.create_message(' });

// the chat suite's heavy writer, user 2, into a random one of their 25,000 conversations
const session = { role: 'authenticated', claims: { role: 'authenticated', aud: 'authenticated', sub: benchUserId(2) } };
const async = { ...session, settings: { synchronous_commit: 'off' } };
const cpu = { session: async, clients: 1 };
const text = 'A new question from the benchmark.';
const conversation = `('00000000-0000-4000-9000-' || lpad(to_hex(:k::int), 12, '0'))::uuid`;
const call = (fn) => `\\set k random(25001, 50000)\nselect ${fn}(${conversation}, '${text}', 'user');\n`;
const floor = `\\set k random(25001, 50000)\nselect bench_floor.insert_message(${conversation}, '${text}', 'user', '${JSON.stringify([{ type: 'text', text }])}');\n`;

export const cases = [
  { name: 'new create_message (server-side, user 2)', script: call('public.create_message'), session },
  { name: 'old create_message (server-side, user 2)', script: call('bench_old.create_message'), session },
  { name: 'new create_message (1 connection, async commit)', script: call('public.create_message'), ...cpu },
  { name: 'old create_message (1 connection, async commit)', script: call('bench_old.create_message'), ...cpu },
  { name: 'new create_message (server-side, user 2) ', script: call('public.create_message'), session },
  { name: 'function floor (server-side, user 2)', script: floor, session },
  { name: 'new create_message (1 connection, async commit) ', script: call('public.create_message'), ...cpu },
  { name: 'function floor (1 connection, async commit)', script: floor, ...cpu },
];
