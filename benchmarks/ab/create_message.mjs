// A/B: public.create_message with its field checks inline, as it stood before
// it called private.check_message_fields (issue 15, item 3), against the
// current body, as the chat suite's server-side case calls it; and the same
// with asynchronous commit, where the WAL flush no longer hides the CPU cost.
//   node benchmarks/ab.mjs benchmarks/ab/create_message.mjs
import { benchUserId, oldDefinitionsSetup } from '../harness.mjs';

const before = process.env.AB_BEFORE ?? '277e725';
const file = 'supabase/migrations/20261122020000_chat.sql';

export const suites = ['chat'];
export const setup = oldDefinitionsSetup(before, file, ['public.create_message'], { 'public.create_message(': 'bench_old.create_message(' });

// the chat suite's heavy writer, user 2, into a random one of their 25,000 conversations
const session = { role: 'authenticated', claims: { role: 'authenticated', aud: 'authenticated', sub: benchUserId(2) } };
const call = (fn) =>
  `\\set k random(25001, 50000)\n` +
  `select ${fn}(('00000000-0000-4000-9000-' || lpad(to_hex(:k::int), 12, '0'))::uuid, 'A new question from the benchmark.', 'user');\n`;
const async = { ...session, settings: { synchronous_commit: 'off' } };

export const cases = [
  { name: 'new create_message (server-side, user 2)', script: call('public.create_message'), session },
  { name: 'old create_message (server-side, user 2)', script: call('bench_old.create_message'), session },
  { name: 'new create_message (server-side, async commit)', script: call('public.create_message'), session: async },
  { name: 'old create_message (server-side, async commit)', script: call('bench_old.create_message'), session: async },
];
