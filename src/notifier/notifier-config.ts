/**
 * How to reach the SMTP server that sends notification email. Credentials are used for that server
 * only and never logged.
 */
export interface SmtpConfig {
  host: string;
  port: number;
  /**
   * `tls`: TLS from the first byte (port 465). `starttls`: plain connect, then STARTTLS is required
   * (port 587). `opportunistic`: STARTTLS when offered. `none`: never upgrade (a local relay only).
   */
  security: 'tls' | 'starttls' | 'opportunistic' | 'none';
  /** Login, when the server wants one. */
  auth?: { user: string; password: string } | null;
  /** The sender, `Lookout <lookout@example.com>`. */
  from: string;
  /** Name sent in EHLO; defaults to the machine's host name. */
  clientName?: string;
  /** Accept a server certificate that does not verify (a private relay); default false. */
  insecureTls?: boolean;
  /** Extra CA certificate(s) to trust, PEM. */
  ca?: string;
  /** TCP (and TLS) connect. */
  connectTimeoutMs: number;
  /** From connect to the server's greeting. */
  greetingTimeoutMs: number;
  /** Longest silence on the connection while sending. */
  socketTimeoutMs: number;
}

/** Timeouts of one webhook POST. */
export interface WebhookTimeouts {
  /** TCP + TLS connect. */
  connectMs: number;
  /** From request sent to response headers received (undici checks it on a coarse, about 1 s, clock). */
  headersMs: number;
  /** The whole exchange, response body included (exact). */
  totalMs: number;
}

/** Retries of one delivery: exponential backoff with jitter, then the dead-letter list. */
export interface RetryPolicy {
  /** Attempts in all, the first included; after the last failure the delivery is dead. */
  maxAttempts: number;
  /** Wait before the second attempt; doubled for each further one. */
  baseDelayMs: number;
  /** Longest wait between attempts (a receiver's `Retry-After` may ask for longer, up to a day). */
  maxDelayMs: number;
}

/** When outbox rows of one subscription become one message. */
export interface BatchingPolicy {
  /** Rows wait for company until the oldest is this old… */
  windowSeconds: number;
  /** …or this many are waiting; one message carries at most this many rows. */
  maxBatchSize: number;
}

/** A token bucket per destination (webhook origin, SMTP server). */
export interface RateLimit {
  /** Messages per second, sustained. */
  perSecond: number;
  /** Messages that may go at once after a quiet spell. */
  burst: number;
}

/** Everything the delivery loop needs to know; the composition root builds it from the config. */
export interface NotifierConfig {
  /** Lookout's public URL, for links in messages and the Clair-style callback. */
  publicBaseUrl: string;
  batching: BatchingPolicy;
  retry: RetryPolicy;
  rateLimit: RateLimit;
  /** Deliveries sent at once by one process. */
  concurrency: number;
  /**
   * How long a claimed delivery is reserved; after that, another process may take it over (and
   * send it again). Keep it well above the longest send: `webhook.timeouts.totalMs`, the SMTP
   * timeouts, plus up to a second of rate-limit wait.
   */
  leaseSeconds: number;
  /** Pause of the polling loop when nothing is due (a wake-up cuts it short). */
  pollIntervalMs: number;
  /** Delivered and dead deliveries are deleted with their outbox rows this long after they ended. */
  retentionMs: number;
  webhook: {
    timeouts: WebhookTimeouts;
    /** Bytes of a failing response kept for the error message. */
    maxErrorBodyBytes: number;
    userAgent: string;
  };
  /** Null when email is not configured: email deliveries then wait (and eventually go dead). */
  smtp: SmtpConfig | null;
}

/** Defaults an operator would expect; the config module may expose each as a key. */
export const NOTIFIER_DEFAULTS: Omit<NotifierConfig, 'publicBaseUrl' | 'smtp'> = {
  batching: { windowSeconds: 30, maxBatchSize: 100 },
  retry: { maxAttempts: 10, baseDelayMs: 10_000, maxDelayMs: 3_600_000 },
  rateLimit: { perSecond: 5, burst: 10 },
  concurrency: 4,
  leaseSeconds: 120,
  pollIntervalMs: 5_000,
  retentionMs: 30 * 86_400_000,
  webhook: {
    timeouts: { connectMs: 5_000, headersMs: 10_000, totalMs: 30_000 },
    maxErrorBodyBytes: 1024,
    userAgent: 'Lookout-Notifier/1',
  },
};
