import { z } from 'zod';
import type { NotificationChannel } from '../store/notification-store.ts';

/** Where a subscription's messages go, by channel (the `subscriptions.target` column). */
export type SubscriptionTarget =
  | { channel: 'email'; recipients: string[] }
  | { channel: 'webhook'; url: string }
  | { channel: 'clair'; url: string };

/** Most recipients of one subscription's email. */
export const MAX_RECIPIENTS = 50;

const email = z.email().max(254);
const url = z.string().min(1).max(2048);
const emailTarget = z.object({ recipients: z.array(email).min(1).max(MAX_RECIPIENTS) });
const urlTarget = z.object({ url });

/** The stored target checked against its channel, or the reason it cannot be used. Never throws. */
export function parseSubscriptionTarget(channel: NotificationChannel, target: unknown): { ok: true; target: SubscriptionTarget } | { ok: false; reason: string } {
  if (channel === 'email') {
    const parsed = emailTarget.safeParse(target);
    return parsed.success ? { ok: true, target: { channel, recipients: [...new Set(parsed.data.recipients)] } } : { ok: false, reason: `email target: ${describe(parsed.error)}` };
  }
  const parsed = urlTarget.safeParse(target);
  return parsed.success ? { ok: true, target: { channel, url: parsed.data.url } } : { ok: false, reason: `${channel} target: ${describe(parsed.error)}` };
}

function describe(error: z.ZodError): string {
  const first = error.issues[0];
  return first ? `${first.path.length > 0 ? `${first.path.join('.')}: ` : ''}${first.message}` : 'invalid';
}
