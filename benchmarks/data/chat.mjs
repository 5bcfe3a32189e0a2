// Chat data at any size: conversations and messages for the bench users, with
// the same layout as the chat suite's (benchmarks/suites/chat.mjs) at its
// default size, 100,000 conversations and 1,000,000 messages:
//   users 1..users (the harness's bench users; create them first)
//   conversations k = 1..conversations, id convId(k), updated_at = base + k s:
//     the first quarter owned by user 1 (the heavy user, who reads),
//     the second quarter by user 2 (the heavy writer: a server-side
//     create_message case writes as one user and must not reorder user 1's list),
//     the rest by users 3..users in turn
//   messages: 6% in conversation 1 (the heavy conversation), id msgId(n),
//     created_at = base + n ms; the rest spread over conversations 2..conversations
//     (ids in their own deterministic range, below the uuid v7 ids that new
//     messages get, so new ids still land at the end of the primary key)
// chatLayout() gives the numbers and the cursors of the deep pages, so cases
// can name rows without a lookup; loadChat() loads it (see bulk.mjs for how).
import { benchUserUuid } from '../harness.mjs';
import { dropIndexes, jsUuid, rebuildIndexes, runPhases, sqlUuid, triggersOff, triggersOn } from './bulk.mjs';

const convPrefix = '00000000-0000-4000-9000-';
const heavyMsgPrefix = '00000000-0000-4000-a000-';
const otherMsgPrefix = '00000000-0000-4000-b000-';
const base = Date.parse('2026-01-01T00:00:00Z');
const baseSql = `timestamptz '2026-01-01 00:00:00+00'`;

export const convId = (k) => jsUuid(convPrefix, k);
export const msgId = (n) => jsUuid(heavyMsgPrefix, n);
/** SQL: conversation k's id, k an integer SQL expression (`:k::int` in a pgbench script). */
export const sqlConvId = (k) => sqlUuid(convPrefix, k);

/**
 * The layout for a size, with the keyset cursors `pages` pages deep: the
 * conversation at rank pages*20 of user 1's list (p_limit 20), the message
 * pages*50 back from the newest of the heavy conversation (p_limit 50).
 */
export function chatLayout({ users = 10_000, conversations = 100_000, messages = 1_000_000, pages = 1_000 } = {}) {
  const heavyUserConversations = Math.floor(conversations / 4);
  const writerFirst = heavyUserConversations + 1;
  const writerLast = 2 * heavyUserConversations;
  const heavyConversationMessages = Math.round(messages * 0.06);
  const convDepth = pages * 20;
  const msgDepth = pages * 50;
  if (convDepth >= heavyUserConversations || msgDepth >= heavyConversationMessages) {
    throw new Error(`chat data too small for ${pages} pages deep: ${conversations} conversations, ${messages} messages`);
  }
  const convCursorK = heavyUserConversations - convDepth;
  return {
    users, conversations, messages, pages,
    heavyUserConversations, writerFirst, writerLast, sharedFirst: writerLast + 1, heavyConversationMessages,
    convCursorK,
    convCursorAt: new Date(base + convCursorK * 1000).toISOString(),
    convCursorId: convId(convCursorK),
    msgCursorId: msgId(heavyConversationMessages - msgDepth),
    msgCursorAt: new Date(base + heavyConversationMessages - msgDepth).toISOString(),
  };
}

/** The load as phases ({ name, sql }), for runPhases or a caller that runs them itself. */
export function chatPhases(opts = {}) {
  const l = chatLayout(opts);
  const { superuser = false } = opts;
  const owner = (k) => `case when ${k} < ${l.writerFirst} then 1 when ${k} <= ${l.writerLast} then 2 `
    + `else 3 + (${k} - ${l.sharedFirst}) % ${l.users - 2} end`;
  const text = (what) => `'Message ' || n || '${what}'`;
  const others = l.messages - l.heavyConversationMessages;
  const heavyText = text(' of the long conversation, with a sentence or two of ordinary length.');
  const otherText = text(': a question or an answer of ordinary length for a chat benchmark.');
  const row = (t) => `case when n % 2 = 1 then 'user' else 'assistant' end, ${t}, jsonb_build_array(jsonb_build_object('type', 'text', 'text', ${t})), `
    + `${baseSql} + n * interval '1 millisecond'`;
  return [
    { name: 'drop indexes', sql: `${dropIndexes('public.conversations')}\n${dropIndexes('public.messages')}` },
    {
      // message_count and last_message_at as the count triggers would keep
      // them, computed from the layout (conversation k >= 2 gets messages
      // n = k - 1, k - 1 + (conversations - 1), ...) rather than counted after
      name: `conversations (${l.conversations})`,
      sql: `${triggersOff('public.conversations', { superuser })}
        insert into public.conversations (id, user_id, title, model_name, created_at, updated_at, message_count, last_message_at)
        select ${sqlConvId('k')}, ${benchUserUuid(owner('k'))}, 'Conversation ' || k, 'gpt-4o-mini',
               ${baseSql} + k * interval '1 second', ${baseSql} + k * interval '1 second',
               m.count, case when m.count > 0 then ${baseSql} + m.last * interval '1 millisecond' end
          from generate_series(1, ${l.conversations}) as k,
               lateral (select case when k = 1 then ${l.heavyConversationMessages}
                                    else ${others} / ${l.conversations - 1} + (k - 2 < ${others} % ${l.conversations - 1})::int end as count) as c,
               lateral (select c.count, case when k = 1 then ${l.heavyConversationMessages}
                                             else k - 1 + (c.count - 1) * ${l.conversations - 1} end as last) as m;
        ${triggersOn('public.conversations', { superuser })}`,
    },
    {
      name: `messages (${l.messages})`,
      sql: `${triggersOff('public.messages', { superuser })}
        insert into public.messages (id, conversation_id, user_id, role, content, parts, created_at)
        select ${sqlUuid(heavyMsgPrefix, 'n')}, ${sqlConvId(1)}, ${benchUserUuid(1)}, ${row(heavyText)}
          from generate_series(1, ${l.heavyConversationMessages}) as n;
        insert into public.messages (id, conversation_id, user_id, role, content, parts, created_at)
        select ${sqlUuid(otherMsgPrefix, 'n')}, ${sqlConvId('k')}, ${benchUserUuid(owner('k'))}, ${row(otherText)}
          from generate_series(1, ${l.messages - l.heavyConversationMessages}) as n,
               lateral (select 2 + (n - 1) % ${l.conversations - 1} as k) as pick;
        ${triggersOn('public.messages', { superuser })}`,
    },
    { name: 'rebuild indexes', sql: `${rebuildIndexes('public.conversations')}\n${rebuildIndexes('public.messages')}` },
  ];
}

/**
 * Loads chat data into a database whose bench users exist; returns
 * { layout, times } (times: [{ phase, seconds }]). Options: users,
 * conversations, messages, pages (deep-page depth), superuser (ctx.sql
 * connects as a superuser: triggers and foreign-key checks skipped).
 */
export async function loadChat(ctx, opts = {}) {
  const times = await runPhases(ctx, 'chat', chatPhases(opts));
  return { layout: chatLayout(opts), times };
}
