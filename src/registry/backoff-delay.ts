import type { RegistryRetries } from './registry-config.ts';

/**
 * The wait before retry number `retry` (1 for the first retry): exponential from `baseDelayMs`,
 * capped at `maxDelayMs`, with "equal jitter" (between half and all of it) so that many clients
 * do not retry in step. A server's `Retry-After` (ms) is honoured as a lower bound.
 */
export function backoffDelay(retry: number, retries: RegistryRetries, retryAfterMs: number | null = null, random: () => number = Math.random): number {
  const exponential = Math.min(retries.maxDelayMs, retries.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const jittered = exponential / 2 + (random() * exponential) / 2;
  return Math.round(retryAfterMs === null ? jittered : Math.max(retryAfterMs, jittered));
}
