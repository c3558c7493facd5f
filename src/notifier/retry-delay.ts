import type { RetryPolicy } from './notifier-config.ts';

/** Longest `Retry-After` honoured (a day); a receiver asking for more is retried after a day. */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * The wait after failed attempt number `attempt` (1 after the first): exponential from
 * `baseDelayMs`, capped at `maxDelayMs`, with "equal jitter" (between half and all of it) so
 * deliveries that failed together do not retry together. A receiver's `Retry-After` (ms) is a
 * lower bound, capped at {@link MAX_RETRY_AFTER_MS}.
 */
export function retryDelay(attempt: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, retryAfterMs: number | null = null, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(40, Math.max(0, attempt - 1)));
  const jittered = Math.round(exponential / 2 + (random() * exponential) / 2);
  return retryAfterMs === null ? jittered : Math.max(Math.min(retryAfterMs, MAX_RETRY_AFTER_MS), jittered);
}
