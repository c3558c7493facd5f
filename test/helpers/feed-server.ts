import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One resource the feed server answers with. */
export interface FeedResource {
  body: Buffer | string;
  /** ETag sent and honoured in If-None-Match. Default: a quoted sha1 of the body. `null`: no ETag. */
  etag?: string | null;
  /** Last-Modified sent and honoured in If-Modified-Since (HTTP date). Default: none. */
  lastModified?: string | null;
  contentType?: string;
  /** Response status (default 200). Only 200 resources answer 304 to a matching conditional request. */
  status?: number;
  /** Extra response headers (e.g. `location` for a redirect). */
  headers?: Record<string, string>;
}

/** Computes a resource per request (e.g. a page chosen by a query parameter). */
export type FeedHandler = (request: { url: URL; headers: IncomingHttpHeaders }) => FeedResource;

/** A request the server received, with what it answered. */
export interface RecordedRequest {
  method: string;
  /** The path without the query. */
  path: string;
  url: URL;
  headers: IncomingHttpHeaders;
  status: number;
}

/** A running feed server: what it serves, what it was asked. */
export interface FeedServer {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  /** The absolute URL of `path` on this server. */
  url(path: string): string;
  /** Serves `resource` (or what `handler` returns) at `path` (matched without the query), replacing what was there. */
  set(path: string, resource: FeedResource | FeedHandler): void;
  remove(path: string): void;
  /** Every request so far, oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** How many requests were made (for `path` only, when given). */
  count(path?: string): number;
  clearRequests(): void;
  close(): Promise<void>;
}

/**
 * A small HTTP server on 127.0.0.1 serving feed files the way CDNs do: ETag and Last-Modified on
 * every 200, `304 Not Modified` for a matching `If-None-Match` (or, without one, an
 * `If-Modified-Since` not older than Last-Modified), 404 for unknown paths. It records every
 * request (path, query, headers, status) so tests can count round trips and check headers.
 * Pass the ava `t` to have it closed when the test ends.
 */
export async function startFeedServer(t?: { teardown(fn: () => Promise<void>): void }): Promise<FeedServer> {
  const routes = new Map<string, FeedResource | FeedHandler>();
  const requests: RecordedRequest[] = [];

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const answer = (status: number, headers: Record<string, string>, body?: Buffer | string): void => {
      requests.push({ method: req.method ?? 'GET', path: url.pathname, url, headers: req.headers, status });
      res.writeHead(status, headers);
      res.end(body);
    };
    const route = routes.get(url.pathname);
    if (route === undefined) return answer(404, { 'content-type': 'text/plain' }, 'not found');
    const resource = typeof route === 'function' ? route({ url, headers: req.headers }) : route;
    const body = typeof resource.body === 'string' ? Buffer.from(resource.body) : resource.body;
    const etag = resource.etag === undefined ? `"${createHash('sha1').update(body).digest('hex')}"` : resource.etag;
    const lastModified = resource.lastModified ?? null;
    const headers: Record<string, string> = { 'content-type': resource.contentType ?? 'application/octet-stream', ...resource.headers };
    if (etag !== null) headers.etag = etag;
    if (lastModified !== null) headers['last-modified'] = lastModified;
    const status = resource.status ?? 200;
    if (status === 200 && notModified(req.headers, etag, lastModified)) return answer(304, headers);
    headers['content-length'] = String(body.length);
    answer(status, headers, req.method === 'HEAD' ? undefined : body);
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  t?.teardown(close);
  return {
    baseUrl,
    url: (path) => new URL(path, baseUrl).toString(),
    set: (path, resource) => void routes.set(path, resource),
    remove: (path) => void routes.delete(path),
    requests,
    count: (path) => (path === undefined ? requests.length : requests.filter((r) => r.path === path).length),
    clearRequests: () => void requests.splice(0),
    close,
  };
}

function notModified(headers: IncomingHttpHeaders, etag: string | null, lastModified: string | null): boolean {
  const inm = headers['if-none-match'];
  if (typeof inm === 'string') {
    if (etag === null) return false;
    return inm.split(',').some((tag) => tag.trim() === '*' || tag.trim() === etag);
  }
  const ims = headers['if-modified-since'];
  if (typeof ims === 'string' && lastModified !== null) {
    const since = Date.parse(ims);
    const modified = Date.parse(lastModified);
    return Number.isFinite(since) && Number.isFinite(modified) && modified <= since;
  }
  return false;
}
