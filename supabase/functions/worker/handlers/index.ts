// The registry: which handler runs each job type and which sender each
// notification channel. A type or channel missing here fails its work
// non-retryably with a message naming it (handler.ts), never silently.
import { emailChannel, emailSendHandler } from './email.ts';
import { analyticsDailyHandler, inAppChannel, membershipUpdatedHandler } from './platform.ts';
import { pushSender } from './push.ts';
import { quizHandler } from './quiz.ts';
import { smsSender } from './sms.ts';
import type { ChannelSender, JobHandler, NotificationInput } from './types.ts';
import { videoHandler } from './video.ts';
import { whatsappChannel, whatsappMessageHandler } from './whatsapp.ts';

export interface Registry {
  jobs: ReadonlyMap<string, JobHandler<any>>;
  channels: ReadonlyMap<NotificationInput['channel'], ChannelSender>;
}

export function buildRegistry(jobs: JobHandler<any>[], channels: ChannelSender[]): Registry {
  return { jobs: new Map(jobs.map((h) => [h.type, h])), channels: new Map(channels.map((s) => [s.channel, s])) };
}

export const registry: Registry = buildRegistry(
  [emailSendHandler, whatsappMessageHandler, analyticsDailyHandler, membershipUpdatedHandler, quizHandler, videoHandler],
  [emailChannel, whatsappChannel, inAppChannel, smsSender, pushSender],
);
