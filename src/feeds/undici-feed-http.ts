import { Transform, type TransformCallback } from 'node:stream';
import { Agent, request } from 'undici';
import type { FeedHttp, FeedRequest, FeedResponse } from '../ecosystems/updater.ts';
import { redactUrl } from '../log/redact.ts';

/** Failure fetching a feed; the message names the URL (credentials stripped) and the reason. */
export class FeedFetchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FeedFetchError';
  }
}

export interface FeedHttpOptions {
  /** Only URLs under one of these bases are fetched (the configured `feeds.<name>.url`). */
  allowedBases: readonly string[];
  /** Largest body accepted per response, in bytes (compressed as sent). */
  maxBytes: number;
  connectTimeoutMs?: number;
  /** Time to wait for response headers. */
  headersTimeoutMs?: number;
  /** Longest silence while the body streams. */
  bodyTimeoutMs?: number;
  /** Redirects followed, each checked against the allowed bases too. */
  maxRedirects?: number;
  userAgent?: string;
}

/**
 * {@link FeedHttp} on undici: conditional GET (`If-None-Match` / `If-Modified-Since`, 304 → unchanged),
 * only for URLs under the configured bases (redirects included), with connect/headers/body timeouts
 * and a byte limit enforced while the body streams.
 */
export class UndiciFeedHttp implements FeedHttp {
  private readonly options: Required<Omit<FeedHttpOptions, 'allowedBases'>> & { allowedBases: readonly string[] };
  private readonly dispatcher: Agent;

  constructor(options: FeedHttpOptions) {
    this.options = {
      connectTimeoutMs: 10_000,
      headersTimeoutMs: 60_000,
      bodyTimeoutMs: 60_000,
      maxRedirects: 5,
      userAgent: 'lookout-feed-updater',
      ...options,
    };
    this.dispatcher = new Agent({
      connect: { timeout: this.options.connectTimeoutMs },
      headersTimeout: this.options.headersTimeoutMs,
      bodyTimeout: this.options.bodyTimeoutMs,
    });
  }

  async get(req: FeedRequest, signal?: AbortSignal): Promise<FeedResponse> {
    let url = req.url;
    for (let hop = 0; hop <= this.options.maxRedirects; hop++) {
      this.assertAllowed(url);
      const headers: Record<string, string> = { ...req.headers, 'user-agent': this.options.userAgent, accept: '*/*' };
      if (req.etag) headers['if-none-match'] = req.etag;
      if (req.lastModified) headers['if-modified-since'] = req.lastModified;
      let res;
      try {
        res = await request(url, { method: 'GET', headers, dispatcher: this.dispatcher, signal });
      } catch (err) {
        throw new FeedFetchError(`GET ${redactUrl(url)} failed: ${(err as Error).message}`, { cause: err });
      }
      const { statusCode } = res;
      if (statusCode === 304) {
        res.body.resume();
        return { status: 'unchanged' };
      }
      if ([301, 302, 303, 307, 308].includes(statusCode)) {
        const location = res.headers.location;
        res.body.resume();
        if (typeof location !== 'string') throw new FeedFetchError(`GET ${redactUrl(url)}: redirect without a Location`);
        url = new URL(location, url).toString();
        continue;
      }
      if (statusCode !== 200) {
        res.body.resume();
        throw new FeedFetchError(`GET ${redactUrl(url)} answered ${statusCode}`);
      }
      const declared = Number(res.headers['content-length'] ?? Number.NaN);
      if (Number.isFinite(declared) && declared > this.options.maxBytes) {
        res.body.destroy();
        throw new FeedFetchError(`GET ${redactUrl(url)}: body of ${declared} bytes is over the limit of ${this.options.maxBytes}`);
      }
      const header = (name: string): string | null => {
        const value = res.headers[name];
        return typeof value === 'string' ? value : null;
      };
      return {
        status: 'ok',
        etag: header('etag'),
        lastModified: header('last-modified'),
        body: res.body.pipe(byteLimit(this.options.maxBytes, redactUrl(url))),
      };
    }
    throw new FeedFetchError(`GET ${redactUrl(req.url)}: more than ${this.options.maxRedirects} redirects`);
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private assertAllowed(url: string): void {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new FeedFetchError(`not a URL: ${redactUrl(url)}`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new FeedFetchError(`unsupported scheme in ${redactUrl(url)}`);
    }
    const allowed = this.options.allowedBases.some((base) => isUnder(parsed, base));
    if (!allowed) throw new FeedFetchError(`refusing to fetch ${redactUrl(url)}: not under a configured feed URL`);
  }
}

function isUnder(url: URL, base: string): boolean {
  let b: URL;
  try {
    b = new URL(base);
  } catch {
    return false;
  }
  if (url.origin !== b.origin) return false;
  const prefix = b.pathname.endsWith('/') ? b.pathname : b.pathname.replace(/[^/]*$/, '');
  return url.pathname.startsWith(prefix) || url.pathname === b.pathname;
}

function byteLimit(maxBytes: number, label: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > maxBytes) callback(new FeedFetchError(`GET ${label}: body is over the limit of ${maxBytes} bytes`));
      else callback(null, chunk);
    },
  });
}
