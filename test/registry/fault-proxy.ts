/**
 * A small HTTP proxy on 127.0.0.1 in front of a real registry (or any server) that injects real
 * failures: fixed answers (500, 429 + Retry-After, 401 challenges), hanging, a body cut after N
 * bytes (socket destroyed), a corrupted body, or a plain forward. Every request is recorded
 * (method, path, Range, whether an Authorization header came; never its value).
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with one request. */
export type FaultAction =
  | { kind: 'forward' }
  | { kind: 'respond'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'hang' }
  | { kind: 'truncate'; afterBytes: number }
  | { kind: 'corrupt' }
  | { kind: 'stall-body'; afterBytes: number };

/** One request the proxy saw. */
export interface ProxiedRequest {
  method: string;
  path: string;
  range: string | null;
  authorization: boolean;
  action: FaultAction['kind'];
}

/** Decides per request; `count` is how many requests with the same method and path came before. */
export type FaultPlan = (req: IncomingMessage, count: number) => FaultAction;

export interface FaultProxy {
  url: string;
  host: string;
  requests: ProxiedRequest[];
  /** Requests whose path matches. */
  count(path: RegExp, method?: string): number;
  stop(): Promise<void>;
}

const FORWARD: FaultAction = { kind: 'forward' };

/** Starts a proxy to `target` (`http://127.0.0.1:PORT`) applying `plan`; stopped at `t`'s teardown. */
export async function startFaultProxy(t: { teardown(fn: () => Promise<void>): void }, target: string, plan: FaultPlan = () => FORWARD): Promise<FaultProxy> {
  const upstream = new URL(target);
  const seen = new Map<string, number>();
  const requests: ProxiedRequest[] = [];
  const server = createServer((req, res) => {
    const key = `${req.method} ${req.url}`;
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    const action = plan(req, n);
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      range: typeof req.headers.range === 'string' ? req.headers.range : null,
      authorization: req.headers.authorization !== undefined,
      action: action.kind,
    });
    if (action.kind === 'respond') {
      req.resume();
      res.writeHead(action.status, { 'content-type': 'application/json', ...action.headers });
      res.end(action.body ?? '');
      return;
    }
    if (action.kind === 'hang') {
      req.resume();
      return; // never answers; closed when the server stops
    }
    forward(req, res, upstream, action);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  t.teardown(stop);
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    count: (path, method) => requests.filter((r) => path.test(r.path) && (method === undefined || r.method === method)).length,
    stop,
  };
}

function forward(req: IncomingMessage, res: ServerResponse, upstream: URL, action: FaultAction): void {
  const headers = { ...req.headers, host: upstream.host };
  const out = httpRequest(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
    (up) => {
      const status = up.statusCode ?? 502;
      if (action.kind === 'corrupt') {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          const body = Buffer.concat(chunks);
          const at = Math.floor(body.length / 2);
          if (body.length > 0) body[at] = body[at]! ^ 0xff;
          res.writeHead(status, up.headers);
          res.end(body);
        });
        return;
      }
      res.writeHead(status, up.headers);
      if (action.kind === 'truncate' || action.kind === 'stall-body') {
        let sent = 0;
        up.on('data', (c: Buffer) => {
          if (sent >= action.afterBytes) return;
          const part = c.subarray(0, action.afterBytes - sent);
          sent += part.length;
          if (sent < action.afterBytes) {
            res.write(part);
            return;
          }
          up.destroy();
          // truncate: drop the connection once the bytes are out; stall-body: keep it open and silent
          res.write(part, () => {
            if (action.kind === 'truncate') res.socket?.destroy();
          });
        });
        return;
      }
      up.pipe(res);
    },
  );
  out.on('error', () => res.socket?.destroy());
  req.pipe(out);
}
