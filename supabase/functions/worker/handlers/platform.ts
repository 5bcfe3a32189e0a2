// Jobs that call the database's own functions: the daily analytics rollup
// (refresh_daily_metrics, also run hourly by pg_cron) and a plan change
// (set_user_plan, as the billing webhook applies it).
import { z } from 'zod';
import { callRpc } from './db.ts';
import type { ChannelSender, JobHandler } from './types.ts';

export const analyticsPayload = z.object({ date: z.iso.date().optional() }).strict();

export const analyticsDailyHandler: JobHandler<z.infer<typeof analyticsPayload>> = {
  type: 'analytics/daily.aggregate',
  payload: analyticsPayload,
  async run(ctx) {
    return { rows: await callRpc<number>(ctx, 'refresh_daily_metrics') };
  },
};

export const membershipPayload = z
  .object({
    user_id: z.uuid(),
    plan: z.string().min(1).max(100),
    active: z.boolean().default(true),
    reset_date: z.iso.date().optional(),
  })
  .strict();

export const membershipUpdatedHandler: JobHandler<z.infer<typeof membershipPayload>> = {
  type: 'membership/updated',
  payload: membershipPayload,
  async run(ctx, job) {
    const p = job.payload;
    const row = await callRpc<{ plan_name: string; active: boolean }>(ctx, 'set_user_plan', {
      p_user_id: p.user_id, p_plan_name: p.plan, p_active: p.active, ...(p.reset_date ? { p_reset_date: p.reset_date } : {}),
    });
    return { plan: row.plan_name, active: row.active };
  },
};

/** In-app notifications are delivered when created (create_notification marks them sent): nothing to send. */
export const inAppChannel: ChannelSender = {
  channel: 'in_app',
  send: async () => ({}),
};
