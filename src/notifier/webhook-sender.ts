import { Agent, request } from 'undici';
import { parseRetryAfter } from '../registry/retry-after.ts';
import { final, retryable, type DeliveryOutcome } from './delivery-outcome.ts';
import type { WebhookTimeouts } from './notifier-config.ts';
import { webhookHeaders } from './webhook-signature.ts';
import { errorCode } from '../errors/error-code.ts';

/** One signed POST: the subscription's URL, the delivery id (`webhook-id`) and the JSON body. */
export interface WebhookRequest {
  url: string;
  /** The delivery id: the idempotency key, identical on every retry. */
  id: string;
  body: string;
  /** The subscription's signing secret (`whsec_…` or raw); null sends the message unsigned. */
  secret: string | null;
  signal?: AbortSignal;
}

/** Timeouts and identity of the webhook sender. */
export interface WebhookSenderOptions {
  timeouts: WebhookTimeouts;
  /** Bytes of a failing response's body kept for the error message. */
  maxErrorBodyBytes: number;
  userAgent: string;
  /** Unix milliseconds, for `webhook-timestamp`; default `Date.now`. */
  now?: () => number;
}

const TIMEOUTS: Record<string, string> = {
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
  UND_ERR_HEADERS_TIMEOUT: 'response headers timeout',
  UND_ERR_BODY_TIMEOUT: 'response body timeout',
  ETIMEDOUT: 'connect timeout',
};

/**
 * Sends webhooks with undici: `POST` with `content-type: application/json` and the Standard
 * Webhooks headers (a fresh timestamp and signature per attempt, the same `webhook-id`); connect,
 * response-headers and total timeouts; redirects are not followed (only the configured URL is
 * called). 2xx is success; 408, 429 (with its `Retry-After`), 5xx, timeouts and connection errors
 * are retryable; 3xx and other 4xx are final. Reasons name the URL's origin only.
 */
export class WebhookSender {
  private readonly options: WebhookSenderOptions;
  private readonly dispatcher: Agent;
  private readonly now: () => number;

  constructor(options: WebhookSenderOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.dispatcher = new Agent({
      connect: { timeout: options.timeouts.connectMs },
      headersTimeout: options.timeouts.headersMs,
      bodyTimeout: options.timeouts.totalMs,
      connections: 8,
    });
  }

  /** The destination key of a URL for rate limiting (its origin), or null when it is not http(s). */
  static destination(url: string): string | null {
    const parsed = checkUrl(url);
    return typeof parsed === 'string' ? null : parsed.origin;
  }

  async send(req: WebhookRequest): Promise<DeliveryOutcome> {
    const parsed = checkUrl(req.url);
    if (typeof parsed === 'string') return final(parsed);
    const origin = parsed.origin;
    const timestamp = Math.floor(this.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': this.options.userAgent,
      'webhook-id': req.id,
      'webhook-timestamp': String(timestamp),
    };
    if (req.secret !== null) {
      try {
        Object.assign(headers, webhookHeaders(req.secret, req.id, timestamp, req.body));
      } catch (err) {
        return final(`subscription secret is unusable: ${(err as Error).message}`);
      }
    }
    const timeout = AbortSignal.timeout(this.options.timeouts.totalMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    try {
      const res = await request(parsed, { method: 'POST', headers, body: req.body, signal, dispatcher: this.dispatcher });
      const status = res.statusCode;
      if (status >= 200 && status < 300) {
        await res.body.dump({ signal, limit: 65_536 }).catch(() => undefined);
        return { ok: true, status };
      }
      const snippet = await readSnippet(res.body, this.options.maxErrorBodyBytes, signal);
      const reason = `POST ${origin} answered ${status}${snippet ? `: ${snippet}` : ''}`;
      if (status === 408 || status === 429 || status >= 500) {
        return retryable(reason, status, parseRetryAfter(res.headers['retry-after']));
      }
      if (status >= 300 && status < 400) return final(`POST ${origin} answered ${status} (redirects are not followed)`, status);
      return final(reason, status);
    } catch (err) {
      if (req.signal?.aborted) return retryable(`POST ${origin} interrupted: the notifier is stopping`);
      if (timeout.aborted) return retryable(`POST ${origin} timed out after ${this.options.timeouts.totalMs} ms`);
      const code = errorCode(err);
      const which = code === undefined ? undefined : TIMEOUTS[code];
      if (which) return retryable(`POST ${origin}: ${which}`);
      return retryable(`POST ${origin} failed: ${code ?? (err as Error | null)?.name ?? 'error'}`);
    }
  }

  /** Closes idle connections. */
  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

/** The URL when it is one we may call (http or https, no credentials), or the reason it is not. */
function checkUrl(url: string): URL | string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'webhook URL is not a valid URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'webhook URL must be http:// or https://';
  if (parsed.username !== '' || parsed.password !== '') return 'webhook URL must not carry credentials';
  return parsed;
}

/** Up to `max` bytes of a response body as one printable line; the rest is discarded. */
async function readSnippet(body: AsyncIterable<Uint8Array> & { destroy(): unknown }, max: number, signal: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      if (signal.aborted) break;
      chunks.push(Buffer.from(chunk));
      size += chunk.byteLength;
      if (size >= max) break;
    }
  } catch {
    // a failing body still leaves the status to report
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks)
    .subarray(0, max)
    .toString('utf8')
    .replace(/[\u0000-\u001f\u007f\ufffd]+/g, ' ')
    .trim();
}
