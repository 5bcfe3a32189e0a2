// Chat: 100k conversations and 1M messages, then create_message throughput and
// first-page vs deep-page latency of list_conversations and list_messages.
//
// Data (deterministic ids, so the scripts can name rows without a lookup):
//   users 1..10,000 (the harness's bench users)
//   conversations k = 1..100,000, id convId(k):
//     k = 1..25,000       owned by user 1 ("heavy user", who reads), updated_at = base + k s
//     k = 25,001..50,000  owned by user 2 ("heavy writer", whom the A/B specs in
//                         benchmarks/ab/ write as; kept apart from user 1's list)
//     k = 50,001..100,000 owned by users 3..10,000 (5 each; the server-side
//                         create_message case writes as users 3..10)
//   messages, 1,000,000:
//     60,000 in conversation 1 (the heavy conversation), id msgId(n), created_at = base + n ms
//     940,000 spread over conversations 2..100,000 (about 9 each)
// Deep pages: list_conversations with p_limit 20 at rank 20,001 (1,000 pages of
// 20 down), list_messages with p_limit 50 before message 10,000 (1,000 pages of
// 50 back from the newest of 60,000) — both through the keyset cursor.
import { chatLayout, convId, loadChat, sqlConvId } from '../data/chat.mjs';
import { asBenchUserRequest, benchUserSession, benchUserUuid } from '../harness.mjs';

export const name = 'chat';

// The data at the chat suite's size (benchmarks/data/chat.mjs, shared with npm run bench:scale).
const layout = chatLayout();
const { users, conversations, sharedFirst: firstSharedK } = layout;

export async function setup(ctx) {
  ctx.createBenchUsers(users);
  await loadChat(ctx, layout);
  // create_message's function floor (bench database only, not a migration):
  // the same message row (id, content and its text part, role; defaults for
  // the rest), into the same table with its indexes, owner, quota and counter
  // triggers, from the cheapest function the rules allow: plpgsql with
  // search_path set, security invoker as create_message is. No checks, no
  // derivation (the parts come in as an argument), no ownership test.
  ctx.sql(`
    create schema if not exists bench_floor;
    grant usage on schema bench_floor to authenticated;
    create or replace function bench_floor.insert_message(p_conversation_id uuid, p_content text, p_role text, p_parts jsonb)
    returns public.messages
    language plpgsql volatile security invoker set search_path = '' as $$
    declare
      v_row public.messages;
    begin
      insert into public.messages (id, conversation_id, role, content, parts)
      values (${uuidV7}, p_conversation_id, p_role, p_content, p_parts)
      returning * into v_row;
      return v_row;
    end $$;
    grant execute on function bench_floor.insert_message(uuid, text, text, jsonb) to authenticated;
  `);
}

// private.uuid_v7()'s expression, as create_message writes it inline: the
// floors make the same time-ordered id the same way.
const uuidV7 = `pg_catalog.encode(pg_catalog.set_bit(pg_catalog.set_bit(pg_catalog.overlay(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()),
        pg_catalog.substr(pg_catalog.int8send(pg_catalog.floor(extract(epoch from pg_catalog.clock_timestamp()) * 1000)::bigint), 3), 1, 6),
        52, 1), 53, 1), 'hex')::uuid`;

// The heavy user (1) reads; writers are the other users, each into their own conversations.
const asHeavyUser = (call) => asBenchUserRequest(`\\set u 1\n`, call);

const convIdOf = (k) => sqlConvId(`:${k}::int`);

// create_message's case and its floors: the same users, the same message.
// Each connection writes as its own user (users 3..10, one per pgbench
// client), into a random one of that user's 5 conversations: one user's
// writes queue on that user's quota row (locked until the commit), so a case
// with every connection as one user would measure that queue, not the call.
// The claims are set by the statement itself (pgbench has no per-connection
// setup), the same way in the case and its floors.
const pickWriterConversation =
  `\\set w 3 + :client_id % 8\n\\set j random(0, 4)\n\\set k ${firstSharedK} + (:w - 3) + :j * ${users - 2}\n`;
const asWriter = `(select pg_catalog.set_config('request.jwt.claims', '{"role":"authenticated","aud":"authenticated","sub":"' || ${benchUserUuid(':w::int')} || '"}', true)) as writer`;
const writerSession = benchUserSession(3);
const text = 'A new question from the benchmark.';
const parts = JSON.stringify([{ type: 'text', text }]);
const functionFloor = 'function floor: the same message row from a plpgsql function (insert ... returning, no checks)';
const bareFloor = 'bare floor: the same message row by one INSERT ... RETURNING (no function)';

export const cases = [
  // Reads first: they run while the checkpoint that follows the bulk load is
  // still writing, which would otherwise land on the first write case.
  {
    name: 'list_conversations first page (20 of 25,000)',
    latency: true,
    script: asHeavyUser(`select * from public.list_conversations(p_limit => 20);`),
  },
  {
    name: 'list_conversations 1,000 pages deep (cursor)',
    latency: true,
    script: asHeavyUser(
      `select * from public.list_conversations(p_limit => 20, p_before_updated_at => '${layout.convCursorAt}', p_before_id => '${layout.convCursorId}');`,
    ),
  },
  {
    name: 'list_messages first page (50 of 60,000)',
    latency: true,
    script: asHeavyUser(`select * from public.list_messages('${convId(1)}', 50);`),
  },
  {
    name: 'list_messages 1,000 pages deep (cursor)',
    latency: true,
    script: asHeavyUser(`select * from public.list_messages('${convId(1)}', 50, p_before => '${layout.msgCursorId}');`),
  },
  {
    // The function's own cost, one statement per transaction like `select 1`:
    // 8 writers, one per connection, each into its own conversations.
    name: 'create_message (server-side call, a user per connection, own conversation)',
    floor: functionFloor,
    bare: bareFloor,
    session: writerSession,
    script: `${pickWriterConversation}select public.create_message(${convIdOf('k')}, '${text}', 'user') from ${asWriter};\n`,
  },
  {
    // The same row by the cheapest function the rules allow (setup), as the
    // same users: the RLS check, the triggers (owner, quota, counter), the
    // foreign key and every index; nothing of create_message's own logic.
    name: functionFloor,
    session: writerSession,
    script: `${pickWriterConversation}select bench_floor.insert_message(${convIdOf('k')}, '${text}', 'user', '${parts}') from ${asWriter};\n`,
  },
  {
    // The same row by one bare INSERT as the same users (no function around it).
    name: bareFloor,
    session: writerSession,
    script:
      `${pickWriterConversation}insert into public.messages (id, conversation_id, role, content, parts)\n` +
      `select ${uuidV7.replace(/\s+/g, ' ')}, ${convIdOf('k')}, 'user', '${text}', '${parts}' from ${asWriter} returning *;\n`,
  },
  {
    name: 'create_message (as a request, random user, own conversation)',
    script: asBenchUserRequest(
      `\\set k random(${firstSharedK}, ${conversations})\n\\set u 3 + (:k - ${firstSharedK}) % ${users - 2}\n`,
      `select public.create_message(${convIdOf('k')}, 'A new question from the benchmark.', 'user');`,
    ),
  },
];
