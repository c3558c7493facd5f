/** Longest `Retry-After` taken into account (a day); larger values are clamped. */
const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * The delay a `Retry-After` value asks for, in ms: delta-seconds (`120`) or an HTTP date
 * (`Wed, 21 Oct 2015 07:28:00 GMT`, measured from `now`). Null when absent or unparseable;
 * a date in the past gives 0; values are capped at one day.
 */
export function parseRetryAfter(value: string | readonly string[] | undefined | null, now: number = Date.now()): number | null {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return null;
  if (/^\d{1,10}$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  if (!/^[A-Za-z]{3},? [0-9A-Za-z :-]{10,40}$/.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}
