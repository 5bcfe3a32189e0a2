// WhatsApp under real concurrency: parallel webhook deliveries counted
// exactly, parallel senders never sharing a message, dedupe under a race.
import { afterAll, describe, expect, it } from 'vitest';
import { SqlState } from '../shared/errors.ts';
import { enqueueWhatsappMessageArgs } from '../shared/schemas/integrations.ts';
import { sqlAccepts } from './support/contract.ts';
import { asAnon, asRole, serviceClaims, testDatabase } from './support/db.ts';

const { db } = testDatabase(24);
// the claims of the legacy service_role key, which carry its issuer
const service = { ...serviceClaims, iss: 'supabase-demo' };
// Numbers unique to this run, so a real stack's data is never touched.
const base = 250_700_000_000 + Math.floor(Math.random() * 90_000_000);
const phone = (i: number) => `+${base + i}`;
const queued: number[] = [];
const phones: string[] = [];
const parked: Array<{ id: number; runAt: Date }> = [];

afterAll(async () => {
  for (const p of parked) await db.query('update private.jobs set run_at = $2 where id = $1', [p.id, p.runAt]);
  if (queued.length) await db.query('delete from private.jobs where id = any($1::bigint[])', [queued]);
  if (phones.length) await db.query('delete from public.whatsapp_sessions where phone_number = any($1)', [phones]);
});

describe('update_whatsapp_session_activity', () => {
  it('counts every one of 40 parallel deliveries for one number', async () => {
    const p = phone(1);
    phones.push(p);
    await Promise.all(
      Array.from({ length: 40 }, () => asRole(db, service, 'select public.update_whatsapp_session_activity($1, true)', [p])),
    );
    const { rows } = await db.query('select message_count from public.whatsapp_sessions where phone_number = $1', [p]);
    expect(rows).toHaveLength(1);
    expect(Number(rows[0]!.message_count)).toBe(40);
  });
});

describe('the WhatsApp queue', () => {
  it('hands each of 60 messages to exactly one of 6 parallel senders', async () => {
    // a private clock far in the future: only this test's messages are due then
    const now = '2099-06-01T00:00:00Z';
    const ids: number[] = [];
    for (let i = 0; i < 60; i++) {
      const { rows } = await asRole(
        db,
        service,
        `select id from public.enqueue_whatsapp_message($1, 'text', $2, $3, p_send_at => $4, p_now => $4)`,
        [phone(100 + i), JSON.stringify({ text: `m${i}` }), 1 + (i % 10), now],
      );
      ids.push(Number(rows[0]!.id));
    }
    queued.push(...ids);
    // park whatever else would be due by then (on a shared stack), so the
    // count is exact; afterAll puts it back
    const others = await db.query(
      `with o as (select id, run_at from private.jobs
                   where queue_name = 'whatsapp' and status = 'queued' and run_at <= $1 and not (id = any($2::bigint[]))
                     for update)
       update private.jobs as j set run_at = $1::timestamptz + interval '1 year' from o where j.id = o.id returning j.id, o.run_at`,
      [now, ids],
    );
    parked.push(...others.rows.map((r) => ({ id: Number(r.id), runAt: r.run_at as Date })));
    const batches = await Promise.all(
      Array.from({ length: 6 }, (_, w) =>
        asRole(db, service, `select id, locked_by from public.claim_whatsapp_messages($1, 15, $2)`, [`sender-${w}`, now]),
      ),
    );
    const claimed = batches.flatMap((b) => b.rows.map((r) => Number(r.id)));
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed.sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    const { rows } = await db.query(`select count(*)::int as n from private.jobs where id = any($1::bigint[]) and status = 'active' and attempts = 1`, [ids]);
    expect(rows[0]!.n).toBe(60);
  });

  it('queues one message for 12 racing requests with the same dedupe key', async () => {
    const key = `race-${base}`;
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        asRole(db, service, `select id from public.enqueue_whatsapp_message($1, 'text', '{"text":"once"}', p_dedupe_key => $2)`, [phone(2), key]),
      ),
    );
    const ids = new Set(results.map((r) => Number(r.rows[0]!.id)));
    expect(ids.size).toBe(1);
    queued.push(...ids);
  });

  it('is refused to signed-in users and anon', async () => {
    await expect(
      asAnon(db, `select public.enqueue_whatsapp_message('+250788123456', 'text', '{"text":"x"}')`),
    ).rejects.toMatchObject({ code: SqlState.insufficientPrivilege });
  });

  it.each([
    ['+250788123456', true],
    ['250788123456', false],
    ['+0788123456', false],
    ['+123456', false],
    ['+1234567', true],
    ['+123456789012345', true],
    ['+1234567890123456', false],
  ])('the zod contract agrees on %s', async (p, valid) => {
    const zodOk = enqueueWhatsappMessageArgs.safeParse({ p_recipient_phone: p, p_message_type: 'text', p_message_payload: { text: 'x' } }).success;
    expect(zodOk).toBe(valid);
    const sqlOk = await sqlAccepts(
      asRole(db, service, `select id from public.enqueue_whatsapp_message($1, 'text', '{"text":"x"}', p_send_at => now() + interval '9 years')`, [p]).then(
        (r) => queued.push(Number(r.rows[0]!.id)),
      ),
    );
    expect(sqlOk).toBe(valid);
  });
});
