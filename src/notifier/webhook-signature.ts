import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/*
 * Standard Webhooks signatures (standardwebhooks.com): the signed content is
 * `<webhook-id>.<webhook-timestamp>.<body>`, the signature HMAC-SHA256 with the secret's key,
 * sent as `webhook-signature: v1,<base64>` (several, space-separated, during a secret rotation).
 */

const PREFIX = 'whsec_';
const MAX_SECRET_LENGTH = 1024;
const MAX_SIGNATURE_HEADER = 4096;

/** Default tolerance between a webhook's timestamp and the receiver's clock (the spec's five minutes). */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

/**
 * The HMAC key of a signing secret: `whsec_<base64>` decodes to its bytes (the spec's format);
 * any other string is used as is, as its UTF-8 bytes (a raw shared secret). Throws on an empty
 * or oversized secret, or a `whsec_` secret that is not base64.
 */
export function webhookSecretKey(secret: string): Buffer {
  if (secret.length === 0 || secret.length > MAX_SECRET_LENGTH) throw new TypeError(`webhook secret must be 1 to ${MAX_SECRET_LENGTH} characters`);
  if (!secret.startsWith(PREFIX)) return Buffer.from(secret, 'utf8');
  const encoded = secret.slice(PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 === 1) throw new TypeError('webhook secret after whsec_ is not base64');
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0) throw new TypeError('webhook secret after whsec_ is empty');
  return key;
}

/** A new secret in the spec's format: `whsec_` and 32 random bytes in base64. */
export function generateWebhookSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` for one secret. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string | Uint8Array): string {
  return `v1,${hmac(webhookSecretKey(secret), id, timestampSeconds, body).toString('base64')}`;
}

/** The three Standard Webhooks headers of one attempt. */
export interface WebhookSignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The headers for sending `body` as message `id` at `timestampSeconds`. */
export function webhookHeaders(secret: string, id: string, timestampSeconds: number, body: string | Uint8Array): WebhookSignatureHeaders {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signWebhook(secret, id, timestampSeconds, body),
  };
}

/** The outcome of {@link verifyWebhook}: valid, or why not. */
export type WebhookVerification = { ok: true; id: string; timestamp: number } | { ok: false; reason: string };

/** How strict {@link verifyWebhook} is about time. */
export interface VerifyOptions {
  /** Largest accepted distance between the timestamp and `nowSeconds`; default five minutes. */
  toleranceSeconds?: number;
  /** The receiver's clock, unix seconds; default now. */
  nowSeconds?: number;
}

/**
 * Checks a received webhook as a receiver would: the `webhook-id`, `webhook-timestamp` and
 * `webhook-signature` headers (any header casing; Node's lower-cased headers object works as is)
 * against the raw `body` bytes and `secret`. Valid when the timestamp is within the tolerance and
 * one of the `v1,` signatures matches (compared in constant time). Never throws on bad input.
 */
export function verifyWebhook(
  secret: string,
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  body: string | Uint8Array,
  options: VerifyOptions = {},
): WebhookVerification {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature header' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'webhook-timestamp is not unix seconds' };
  if (signatures.length > MAX_SIGNATURE_HEADER) return { ok: false, reason: 'webhook-signature header is too long' };
  const seconds = Number(timestamp);
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - seconds) > tolerance) return { ok: false, reason: 'webhook-timestamp is outside the tolerance' };
  let key: Buffer;
  try {
    key = webhookSecretKey(secret);
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  const expected = hmac(key, id, seconds, body);
  for (const candidate of signatures.split(' ')) {
    const comma = candidate.indexOf(',');
    if (comma < 0 || candidate.slice(0, comma) !== 'v1') continue;
    const given = Buffer.from(candidate.slice(comma + 1), 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true, id, timestamp: seconds };
  }
  return { ok: false, reason: 'no matching v1 signature' };
}

function hmac(key: Buffer, id: string, timestampSeconds: number, body: string | Uint8Array): Buffer {
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) throw new TypeError('webhook timestamp must be whole unix seconds');
  return createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(body).digest();
}

function header(headers: Readonly<Record<string, string | readonly string[] | undefined>>, name: string): string | undefined {
  let value = headers[name];
  if (value === undefined) {
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
    value = key === undefined ? undefined : headers[key];
  }
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first.trim() : undefined;
}
