// A/B: the chat tables' rules as table CHECKs (main 53ee963: 14 on messages,
// 12 on conversations, each rebuilt and planned by every statement that writes
// the table) against the same rules as column domains (checked from the type
// cache; two cross-column CHECKs stay on messages). Both sides are copies of
// conversations and messages made from the two versions of the migration's
// CREATE TABLE, with the same indexes and the same per-row triggers (owner
// from the conversation, the write quota, the counter update of the
// conversation), written by the same one-row INSERT as the chat suite's
// writer, user 2, into a random one of their 25,000 conversations: as the
// suite runs (8 connections, durable commit) and on one connection with
// asynchronous commit (the CPU cost, without the flush and the wait for user
// 2's quota row).
//   node benchmarks/ab.mjs benchmarks/ab/chat-domains.mjs
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchUserId } from '../harness.mjs';

const before = process.env.AB_BEFORE ?? '53ee963';
const file = 'supabase/migrations/20261122020000_chat.sql';
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `create table if not exists public.<table> (` ... `;` from a version of the chat migration, moved into `schema`. */
function tableDdl(text, table, schema) {
  const start = text.indexOf(`create table if not exists public.${table} (`);
  const end = text.indexOf(';', text.indexOf('\n)', start));
  if (start < 0 || end < 0) throw new Error(`public.${table} not found`);
  return text.slice(start, end + 1)
    .replaceAll(`public.${table} (`, `${schema}.${table} (`)
    .replaceAll('references public.conversations', `references ${schema}.conversations`);
}

/** The tables, indexes and triggers of one side. */
function side(text, schema) {
  return `
create schema ${schema};
grant usage on schema ${schema} to authenticated;
${tableDdl(text, 'conversations', schema)}
${tableDdl(text, 'messages', schema)}
create index on ${schema}.conversations (user_id, updated_at desc, id desc, is_archived);
create index on ${schema}.conversations (visibility, updated_at desc) where visibility = 'public';
create index on ${schema}.messages (conversation_id, created_at, id);
create index on ${schema}.messages (user_id);
create function ${schema}.set_owner() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  new.user_id := (select c.user_id from ${schema}.conversations as c where c.id = new.conversation_id);
  return new;
end $$;
create function ${schema}.count_message() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  update ${schema}.conversations as c
     set message_count = c.message_count + 1, last_message_at = greatest(c.last_message_at, new.created_at),
         updated_at = pg_catalog.now()
   where c.id = new.conversation_id;
  return null;
end $$;
create trigger messages_set_owner before insert on ${schema}.messages for each row execute function ${schema}.set_owner();
create trigger messages_write_quota before insert on ${schema}.messages
  for each row execute function private.consume_quota_per_row('writes');
create trigger messages_count_insert after insert on ${schema}.messages for each row execute function ${schema}.count_message();
grant select, insert on ${schema}.messages to authenticated;
grant select on ${schema}.conversations to authenticated;
insert into ${schema}.conversations (id, user_id, title, model_name, created_at, updated_at)
select id, user_id, title, model_name, created_at, updated_at from public.conversations where user_id = '${benchUserId(2)}';
`;
}

const oldText = execFileSync('git', ['show', `${before}:${file}`], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
const newText = readFileSync(path.join(root, file), 'utf8');

export const suites = ['chat'];
export const setup = side(newText, 'bench_domains') + side(oldText, 'bench_checks');

const session = { role: 'authenticated', claims: { role: 'authenticated', aud: 'authenticated', sub: benchUserId(2) } };
const cpu = { session: { ...session, settings: { synchronous_commit: 'off' } }, clients: 1 };
const text = 'A new question from the benchmark.';
const insert = (schema) =>
  `\\set k random(25001, 50000)\n` +
  `insert into ${schema}.messages (conversation_id, role, content, parts) ` +
  `values (('00000000-0000-4000-9000-' || lpad(to_hex(:k::int), 12, '0'))::uuid, 'user', '${text}', '${JSON.stringify([{ type: 'text', text }])}');\n`;

export const cases = [
  { name: 'domains: message insert + conversation update', script: insert('bench_domains'), session },
  { name: 'table CHECKs: message insert + conversation update', script: insert('bench_checks'), session },
  { name: 'domains: message insert + conversation update (1 connection, async commit)', script: insert('bench_domains'), ...cpu },
  { name: 'table CHECKs: message insert + conversation update (1 connection, async commit)', script: insert('bench_checks'), ...cpu },
];
