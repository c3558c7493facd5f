import { rootCertificates } from 'node:tls';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';
import type { Logger } from '../log/create-logger.ts';
import { backoffDelay } from './backoff-delay.ts';
import { describeUrl } from './describe-url.ts';
import type { RegistryConfig } from './registry-config.ts';
import { RegistryError, type RegistryErrorKind } from './registry-error.ts';
import { parseRetryAfter } from './retry-after.ts';
import { errorCode } from '../errors/error-code.ts';

/** One HTTP exchange with a registry, its token service or a blob redirect target. */
export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal | undefined;
}

/** A response whose status was not a transient failure; the caller must consume or dump its body. */
export type HttpResponse = Dispatcher.ResponseData;

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const INTERRUPTION_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * The transport of one registry: an undici Agent with the configured connect/headers/body-idle
 * timeouts and TLS options, and a `send` that retries 429, 5xx and connection failures with
 * exponential backoff and jitter (honouring `Retry-After`) up to the configured attempts.
 * Messages and logs carry scheme, host and path only.
 */
export class RegistryHttp {
  readonly name: string;
  private readonly config: RegistryConfig;
  private readonly logger: Logger;
  private readonly dispatcher: Agent;

  constructor(config: RegistryConfig, logger: Logger) {
    this.name = config.name;
    this.config = config;
    this.logger = logger;
    const tls = config.tls ?? {};
    this.dispatcher = new Agent({
      connect: {
        timeout: config.timeouts.connectMs,
        rejectUnauthorized: config.insecure !== true,
        // `ca` replaces the default trust store, so keep the public roots (blob redirect targets use them)
        ...(tls.ca !== undefined ? { ca: [...rootCertificates, tls.ca] } : {}),
        ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
        ...(tls.key !== undefined ? { key: tls.key } : {}),
        ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
      },
      headersTimeout: config.timeouts.headersMs,
      bodyTimeout: config.timeouts.bodyIdleMs,
      connections: Math.max(1, config.concurrency) + 2,
    });
  }

  /**
   * Sends `req`, retrying transient failures. Resolves with any response that is not 429/5xx
   * (including 4xx); rejects with a {@link RegistryError} (`rate_limited`, `unavailable`, `timeout`,
   * `aborted`) once the attempts are spent or a `Retry-After` exceeds the longest allowed wait.
   */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const { attempts } = this.config.retries;
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await request(req.url, {
          method: req.method,
          headers: req.headers ?? {},
          body: req.body ?? null,
          signal: req.signal ?? null,
          dispatcher: this.dispatcher,
        });
      } catch (err) {
        const error = this.toError(err, req);
        if (!error.retryable || attempt >= attempts) throw error;
        await this.pause(attempt, null, req, error.kind, undefined);
        continue;
      }
      // undici's body emits an AbortError when destroyed early; readers see errors through iteration
      res.body.on('error', ignore);
      const status = res.statusCode;
      if (status === 429 || (status >= 500 && status !== 501 && status !== 505)) {
        const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
        await res.body.dump().catch(() => undefined);
        const kind: RegistryErrorKind = status === 429 ? 'rate_limited' : 'unavailable';
        const tooLong = retryAfterMs !== null && retryAfterMs > this.config.retries.maxDelayMs;
        if (attempt >= attempts || tooLong) {
          const tried = attempt > 1 ? ` after ${attempt} attempts` : '';
          throw new RegistryError(kind, `${this.label(req)} answered ${status}${tried}`, {
            httpStatus: status,
            ...(retryAfterMs !== null ? { retryAfterMs } : {}),
          });
        }
        await this.pause(attempt, retryAfterMs, req, kind, status);
        continue;
      }
      return res;
    }
  }

  /**
   * Maps a transport error (undici, socket, abort) to a {@link RegistryError}: timeouts → `timeout`,
   * connection failures → `unavailable`, the caller's abort → `aborted`. RegistryErrors pass through.
   */
  toError(err: unknown, req: Pick<HttpRequest, 'method' | 'url' | 'signal'>): RegistryError {
    if (err instanceof RegistryError) return err;
    const code = errorCode(err);
    const label = this.label(req);
    if (req.signal?.aborted || code === 'UND_ERR_ABORTED' || (err as Error | null)?.name === 'AbortError') {
      return new RegistryError('aborted', `${label} aborted`, { cause: err });
    }
    if (code !== undefined && TIMEOUT_CODES.has(code)) {
      const which = code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connect' : code === 'UND_ERR_BODY_TIMEOUT' ? 'body idle' : 'response headers';
      return new RegistryError('timeout', `${label}: ${which} timeout`, { cause: err });
    }
    return new RegistryError('unavailable', `${label} failed: ${code ?? (err as Error | null)?.name ?? 'error'}`, { cause: err });
  }

  /** True for errors after which a body download may resume with `Range` (reset, premature close, body timeout). */
  isInterruption(err: unknown): boolean {
    const code = errorCode(err);
    return code !== undefined && INTERRUPTION_CODES.has(code);
  }

  /** `registry "name": METHOD scheme://host/path` for messages. */
  label(req: Pick<HttpRequest, 'method' | 'url'>): string {
    return `registry ${JSON.stringify(this.name)}: ${req.method} ${describeUrl(req.url)}`;
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async pause(attempt: number, retryAfterMs: number | null, req: HttpRequest, kind: RegistryErrorKind, status: number | undefined): Promise<void> {
    const waitMs = backoffDelay(attempt, this.config.retries, retryAfterMs);
    this.logger.warn(
      { registry: this.name, method: req.method, url: describeUrl(req.url), attempt, kind, status, waitMs },
      'registry request retry',
    );
    try {
      await delay(waitMs, undefined, req.signal ? { signal: req.signal } : {});
    } catch (err) {
      throw this.toError(err, req);
    }
  }
}

function ignore(): void {}
