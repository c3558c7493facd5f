/**
 * How one attempt to send a delivery ended. A failure is retried (`retry: true`: 5xx, 408, 429,
 * timeouts, connection errors, SMTP 4xx) or final (other 4xx, SMTP 5xx, a bad target); `reason`
 * is safe to store and log (no secrets, no URL path or query).
 */
export type DeliveryOutcome =
  | { ok: true; status: number | null; detail?: string }
  | { ok: false; retry: boolean; reason: string; status: number | null; retryAfterMs: number | null };

/** A retryable failure. */
export function retryable(reason: string, status: number | null = null, retryAfterMs: number | null = null): DeliveryOutcome {
  return { ok: false, retry: true, reason, status, retryAfterMs };
}

/** A failure that retrying cannot fix. */
export function final(reason: string, status: number | null = null): DeliveryOutcome {
  return { ok: false, retry: false, reason, status, retryAfterMs: null };
}
