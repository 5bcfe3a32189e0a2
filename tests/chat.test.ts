// Chat under real concurrency (parallel connections, exact counts), and the
// zod contract against the SQL checks.
import { beforeAll, describe, expect, it } from 'vitest';
import { createConversationArgs, createMessageArgs } from '../shared/schemas/chat.ts';
import { expectZodAgreesWithSql, namedCall } from './support/contract.ts';
import { anonClient, userClient } from './support/api.ts';
import { asUser, expectRaceWinners, testDatabase, type TestUser } from './support/db.ts';

const { db, users } = testDatabase(24);
let alice: TestUser;

beforeAll(async () => {
  alice = await users.create();
  // The concurrency tests write a few hundred rows a minute: more than the
  // basic plan's write quota (120 a minute), well within enterprise's.
  await db.query(`select public.set_user_plan($1, 'enterprise')`, [alice.id]);
});

async function newConversation(user: TestUser, title = 'concurrency'): Promise<string> {
  const { rows } = await asUser(db, user, 'select id from public.create_conversation($1)', [title]);
  return rows[0]!.id;
}

async function counters(conversationId: string) {
  const { rows } = await db.query(
    `select c.message_count,
            (select count(*)::int from public.messages m where m.conversation_id = c.id) as actual,
            c.last_message_at = (select max(m.created_at) from public.messages m where m.conversation_id = c.id)
              or (c.last_message_at is null and not exists (select 1 from public.messages m where m.conversation_id = c.id)) as last_ok
       from public.conversations c where c.id = $1`,
    [conversationId],
  );
  return rows[0] as { message_count: number; actual: number; last_ok: boolean };
}

const createMessage = (user: TestUser, conversationId: string, content: string) =>
  asUser(db, user, `select id from public.create_message(p_conversation_id => $1, p_content => $2, p_role => 'user')`, [
    conversationId,
    content,
  ]);

describe('message counters under concurrency', () => {
  it('counts 240 create_message calls from 24 connections exactly', async () => {
    const conversationId = await newConversation(alice);
    await Promise.all(Array.from({ length: 240 }, (_, i) => createMessage(alice, conversationId, `m${i}`)));
    expect(await counters(conversationId)).toEqual({ message_count: 240, actual: 240, last_ok: true });
  });

  it('stays exact when inserts and deletes race', async () => {
    const conversationId = await newConversation(alice);
    const first = await Promise.all(Array.from({ length: 60 }, (_, i) => createMessage(alice, conversationId, `a${i}`)));
    const ids = first.map((r) => r.rows[0]!.id as string);
    await Promise.all([
      ...Array.from({ length: 60 }, (_, i) => createMessage(alice, conversationId, `b${i}`)),
      ...ids.slice(0, 40).map((id) => asUser(db, alice, 'select public.delete_message($1)', [id])),
    ]);
    expect(await counters(conversationId)).toEqual({ message_count: 80, actual: 80, last_ok: true });
  });

  it('keeps last_message_at on a surviving message when the newest ones are deleted in parallel', async () => {
    const conversationId = await newConversation(alice);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await createMessage(alice, conversationId, `s${i}`)).rows[0]!.id);
    await Promise.all(ids.slice(10).map((id) => asUser(db, alice, 'select public.delete_message($1)', [id])));
    expect(await counters(conversationId)).toEqual({ message_count: 10, actual: 10, last_ok: true });
    // edit-and-regenerate racing a new message
    await Promise.all([
      asUser(db, alice, 'select public.delete_messages_after($1)', [ids[4]]),
      createMessage(alice, conversationId, 'late'),
    ]);
    const after = await counters(conversationId);
    expect(after.message_count).toBe(after.actual);
    expect(after.last_ok).toBe(true);
  });
});

describe('documents under concurrency', () => {
  it('numbers 30 parallel saves of one document 1..30 without gaps', async () => {
    const { rows } = await asUser(db, alice, `select id from public.save_document('Shared', 'v0')`);
    const id = rows[0]!.id as string;
    await Promise.all(
      Array.from({ length: 29 }, (_, i) =>
        asUser(db, alice, 'select public.save_document($1, $2, p_id => $3)', ['Shared', `v${i + 1}`, id]),
      ),
    );
    const versions = await asUser(db, alice, 'select version_number, parent_version from public.list_document_versions($1)', [id]);
    expect(versions.rows.map((r) => r.version_number)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(versions.rows.every((r) => r.parent_version === (r.version_number === 1 ? null : r.version_number - 1))).toBe(true);
  });

  it('lets exactly one of parallel saves based on the same version win (PT409 for the rest)', async () => {
    const { rows } = await asUser(db, alice, `select id from public.save_document('Race', 'v1')`);
    const id = rows[0]!.id as string;
    await expectRaceWinners(
      Array.from({ length: 10 }, (_, i) =>
        asUser(db, alice, 'select public.save_document($1, $2, p_id => $3, p_expected_version => 1)', ['Race', `edit ${i}`, id]),
      ),
      1,
      'PT409',
    );
  });
});

describe('the zod contract agrees with the SQL checks', () => {
  let conversationId: string;
  beforeAll(async () => {
    conversationId = await newConversation(alice, 'contract');
  });

  const conversationCases: Array<[string, Record<string, unknown>]> = [
    ['plain title', { p_title: 'Hello' }],
    ['blank title', { p_title: '   ' }],
    ['title of 200', { p_title: 't'.repeat(200) }],
    ['title of 201', { p_title: 't'.repeat(201) }],
    ['temperature 2', { p_title: 't', p_temperature: 2 }],
    ['temperature 2.5', { p_title: 't', p_temperature: 2.5 }],
    ['temperature -1', { p_title: 't', p_temperature: -1 }],
    ['max tokens 0', { p_title: 't', p_max_tokens: 0 }],
    ['max tokens 1', { p_title: 't', p_max_tokens: 1 }],
    ['context length -3', { p_title: 't', p_context_length: -3 }],
    ['public', { p_title: 't', p_visibility: 'public' }],
    ['secret', { p_title: 't', p_visibility: 'secret' }],
    ['array metadata', { p_title: 't', p_metadata: [1] }],
  ];
  it.each(conversationCases)('create_conversation: %s', async (_name, args) => {
    const { sql, params } = namedCall('public.create_conversation', args, ['p_metadata']);
    await expectZodAgreesWithSql(createConversationArgs, args, asUser(db, alice, sql, params));
  });

  const messageCases: Array<[string, Record<string, unknown>]> = [
    ['content', { p_content: 'hi' }],
    ['empty content', { p_content: '' }],
    ['parts only', { p_parts: [{ type: 'text', text: 'hi' }] }],
    ['part without type', { p_parts: [{ text: 'hi' }] }],
    ['empty parts', { p_parts: [] }],
    ['unknown role', { p_content: 'x', p_role: 'robot' }],
    ['system role', { p_content: 'x', p_role: 'system' }],
    ['tool without call id', { p_content: 'x', p_role: 'tool' }],
    ['tool with call id', { p_content: 'x', p_role: 'tool', p_tool_call_id: 'call_1' }],
    ['unknown status', { p_content: 'x', p_status: 'done' }],
    ['aborted', { p_content: 'x', p_status: 'aborted' }],
    ['tool calls only', { p_role: 'assistant', p_tool_calls: [{ id: 't', name: 'search' }] }],
    ['negative tokens', { p_content: 'x', p_input_tokens: -1 }],
  ];
  const jsonArgs = ['p_parts', 'p_tool_calls', 'p_metadata', 'p_attachments'];
  it.each(messageCases)('create_message: %s', async (_name, extra) => {
    const args = { p_conversation_id: conversationId, ...extra };
    const { sql, params } = namedCall('public.create_message', args, jsonArgs);
    await expectZodAgreesWithSql(createMessageArgs, args, asUser(db, alice, sql, params));
  });
});

// Through the gateway's table endpoint, as PostgREST serves it on hosted
// projects: what a user can write there is what the RPCs could have written
// for them, and a public conversation shows its share only.
describe('the table endpoint is no wider than the RPCs', () => {
  let owner: TestUser;
  let intruder: TestUser;
  beforeAll(async () => {
    owner = await users.create();
    intruder = await users.create();
  });

  it('does not let another user take over a document with a higher version number', async () => {
    const ownerApi = await userClient(owner);
    const intruderApi = await userClient(intruder);
    const saved = await ownerApi.rpc('save_document', { p_title: 'Plan', p_content: 'v1' });
    expect(saved.error).toBeNull();
    const id = (saved.data as { id: string }).id;

    const withVersion = await intruderApi
      .from('documents')
      .insert({ id, version_number: 99, user_id: intruder.id, title: 'Hijack' });
    expect(withVersion.error?.code).toBe('42501');
    expect(withVersion.status).toBe(403);
    const withoutVersion = await intruderApi.from('documents').insert({ id, user_id: intruder.id, title: 'Hijack' });
    expect(withoutVersion.error?.code).toBe('PT404');
    expect(withoutVersion.status).toBe(404);

    const again = await ownerApi.rpc('save_document', { p_title: 'Plan', p_content: 'v2', p_id: id, p_expected_version: 1 });
    expect(again.error).toBeNull();
    expect(again.data).toMatchObject({ version_number: 2, parent_version: 1 });
  });

  it('numbers a direct insert by the owner like a save', async () => {
    const ownerApi = await userClient(owner);
    const saved = await ownerApi.rpc('save_document', { p_title: 'Direct', p_content: 'v1' });
    const id = (saved.data as { id: string }).id;
    const direct = await ownerApi
      .from('documents')
      .insert({ id, user_id: owner.id, title: 'Direct', content: 'v2' })
      .select('version_number, parent_version')
      .single();
    expect(direct.error).toBeNull();
    expect(direct.data).toEqual({ version_number: 2, parent_version: 1 });
  });

  it('lets no one choose when a suggestion was resolved', async () => {
    const ownerApi = await userClient(owner);
    const saved = await ownerApi.rpc('save_document', { p_title: 'Sugg', p_content: 'draft' });
    const docId = (saved.data as { id: string }).id;
    const created = await ownerApi.rpc('create_suggestions', {
      p_document_id: docId,
      p_suggestions: [{ original_text: 'draft', suggested_text: 'final' }],
    });
    const sugId = (created.data as Array<{ id: string }>)[0]!.id;
    const backdated = await ownerApi.from('suggestions').update({ is_resolved: true, resolved_at: '2000-01-01T00:00:00Z' }).eq('id', sugId);
    expect(backdated.error?.code).toBe('42501');
    const resolved = await ownerApi.from('suggestions').update({ is_resolved: true }).eq('id', sugId).select('resolved_at').single();
    expect(resolved.error).toBeNull();
    expect(Math.abs(Date.parse(resolved.data!.resolved_at as string) - Date.now())).toBeLessThan(60_000);
  });

  it('refuses a NaN cost on create_message and update_message', async () => {
    const ownerApi = await userClient(owner);
    const conv = await ownerApi.rpc('create_conversation', { p_title: 'costs' });
    const conversationId = (conv.data as { id: string }).id;
    // JSON has no NaN: PostgREST passes the string on, and PostgreSQL reads it as numeric NaN
    const created = await ownerApi.rpc('create_message', { p_conversation_id: conversationId, p_content: 'x', p_cost: 'NaN' });
    expect(created.error).toMatchObject({ code: '22023', message: 'invalid p_cost: must be a finite number' });
    const ok = await ownerApi.rpc('create_message', { p_conversation_id: conversationId, p_content: 'x', p_cost: 0.5 });
    const updated = await ownerApi.rpc('update_message', { p_id: (ok.data as { id: string }).id, p_cost: 'Infinity' });
    expect(updated.error).toMatchObject({ code: '22023', message: 'invalid p_cost: must be a finite number' });
  });

  it("shows anon and other users a public conversation's share, and its owner everything", async () => {
    const ownerApi = await userClient(owner);
    const conv = await ownerApi.rpc('create_conversation', {
      p_title: 'Shared',
      p_system_prompt: 'secret prompt',
      p_metadata: { team: 'x' },
      p_visibility: 'public',
    });
    const id = (conv.data as { id: string }).id;
    await ownerApi.rpc('create_message', { p_conversation_id: id, p_content: 'Hello', p_cost: 0.1, p_metadata: { trace: 't' } });

    const anon = anonClient();
    const share = await anon.from('conversations').select('id, title, created_at, message_count').eq('id', id).single();
    expect(share.error).toBeNull();
    expect(share.data).toMatchObject({ id, title: 'Shared', message_count: 1 });
    for (const column of ['user_id', 'system_prompt', 'metadata', 'last_context', 'total_cost', '*']) {
      const leak = await anon.from('conversations').select(column).eq('id', id);
      expect(leak.error?.code, column).toBe('42501');
    }
    const messages = await anon.from('messages').select('content, role, created_at').eq('conversation_id', id);
    expect(messages.data).toEqual([expect.objectContaining({ content: 'Hello', role: 'user' })]);
    for (const column of ['user_id', 'cost', 'metadata', 'model_used']) {
      const leak = await anon.from('messages').select(column).eq('conversation_id', id);
      expect(leak.error?.code, column).toBe('42501');
    }

    const intruderApi = await userClient(intruder);
    const viaTable = await intruderApi.from('conversations').select('*').eq('id', id);
    expect(viaTable.data).toEqual([]);
    const viaRpc = await intruderApi.rpc('get_conversation', { p_id: id });
    expect(viaRpc.data).toMatchObject({ id, title: 'Shared', user_id: null, system_prompt: null, metadata: null, total_cost: null });
    const sharedMessages = await intruderApi.rpc('list_messages', { p_conversation_id: id });
    expect(sharedMessages.data).toEqual([expect.objectContaining({ content: 'Hello', user_id: null, cost: null, metadata: null })]);

    const own = await ownerApi.from('conversations').select('user_id, system_prompt, metadata').eq('id', id).single();
    expect(own.data).toEqual({ user_id: owner.id, system_prompt: 'secret prompt', metadata: { team: 'x' } });
  });
});
