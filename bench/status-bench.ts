import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { ReportService } from '../src/matcher/report-service.ts';
import { createKnex } from '../src/store/database.ts';
import { migrateLatest } from '../src/store/migrations.ts';
import { benchDatabase, percentile } from './bench-database.ts';
import type { Bench } from './figure.ts';
import { freePort, startServe, stopServe } from './bench-serve.ts';
import { BENCH_LOCATION, loadReportImage } from './report-fixture.ts';

const CLIENTS = 50;
const SECONDS = 30;
const REFERENCE_SECONDS = 10;

interface Run {
  requests: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
}

/**
 * Status polling on loopback: `lookout serve --roles api` in its own process, an image with the
 * typical report of a 500-package image (see match-workload.ts), 50 clients each polling as fast
 * as answers come for 30 s. First with `If-None-Match` (every answer a 304), then without (every
 * answer the full status document with its report). Reference, in the same run: a bare Node HTTP
 * server answering the same way (304 with the ETag; the same body bytes), the cost of HTTP alone.
 */
const bench: Bench = async (ctx) => {
  const db = await benchDatabase(ctx, 'status');
  let lookout: ChildProcess | null = null;
  try {
    const knex = createKnex(db.url, { poolMax: 2 });
    let digest: string;
    try {
      await migrateLatest(knex);
      const loaded = await loadReportImage(knex, 'typical');
      digest = loaded.digest;
      await new ReportService({ knex }).refresh(loaded.manifestId);
    } finally {
      await knex.destroy();
    }
    const port = await freePort();
    lookout = await startServe(ctx, port, { DATABASE_URL: db.url, LOOKOUT_REGISTRIES: JSON.stringify([{ name: BENCH_LOCATION.registry, url: 'http://127.0.0.1:5000' }]) });
    const pathname = `/api/v1/images/${digest}`;
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CLIENTS, pipelining: 1 });
    const first = await pool.request({ method: 'GET', path: pathname });
    const body = Buffer.from(await first.body.arrayBuffer());
    const etag = String(first.headers.etag ?? '');
    if (first.statusCode !== 200 || etag === '') throw new Error(`status answered ${first.statusCode} without an ETag`);
    const findings = (JSON.parse(body.toString('utf8')) as { report: { findings: unknown[] } }).report.findings.length;
    ctx.log(`document ${(body.length / 1e6).toFixed(2)} MB, ${findings} findings; ${CLIENTS} clients for ${SECONDS} s each`);
    await poll(pool, pathname, { 'if-none-match': etag }, 304, 2_000); // warm-up
    const notModified = await poll(pool, pathname, { 'if-none-match': etag }, 304, SECONDS * 1000);
    ctx.log(`304: ${notModified.perSecond} requests/s`);
    const full = await poll(pool, pathname, {}, 200, SECONDS * 1000);
    ctx.log(`full body: ${full.perSecond} requests/s`);
    await pool.close();

    const bare304 = await reference(etag, null);
    const bareFull = await reference(etag, body);
    const note = `${CLIENTS} concurrent clients, keep-alive, ${SECONDS} s; document ${(body.length / 1e6).toFixed(2)} MB with ${findings} findings (${BENCH_LOCATION.repository}:${BENCH_LOCATION.tag}, auth none); ${db.engine} PostgreSQL`;
    for (const [name, run, bare, target] of [
      ['api.status_poll_304', notModified, bare304, '>= 5000 requests/s, p99 <= 20 ms'],
      ['api.status_full_body', full, bareFull, null],
    ] as const) {
      ctx.emit({
        name: `${name}.requests_per_second`,
        value: run.perSecond,
        unit: 'requests/s',
        p50_ms: run.p50,
        p99_ms: run.p99,
        requests: run.requests,
        errors: run.errors,
        ...(target ? { target } : {}),
        reference: { name: 'bare Node HTTP server answering the same', value: bare.perSecond, unit: 'requests/s' },
        reference_p99_ms: bare.p99,
        note,
      });
    }
  } finally {
    if (lookout) await stopServe(lookout);
    await db.drop();
  }
};
export default bench;

/** `CLIENTS` loops, each sending the next request when its answer is in, for `ms`. */
async function poll(pool: Pool, pathname: string, headers: Record<string, string>, expected: number, ms: number): Promise<Run> {
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          const res = await pool.request({ method: 'GET', path: pathname, headers });
          await res.body.dump({ limit: Number.MAX_SAFE_INTEGER });
          if (res.statusCode !== expected) errors++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, errors, perSecond: Math.round(latencies.length / seconds), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** The same client against a bare server: 304 with the ETag when `body` is null, else `body`. */
async function reference(etag: string, body: Buffer | null): Promise<Run> {
  const server: Server = createServer((req, res) => {
    if (body === null) res.writeHead(304, { etag, 'cache-control': 'no-cache' }).end();
    else res.writeHead(200, { etag, 'content-type': 'application/json; charset=utf-8', 'content-length': body.length }).end(body);
    req.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: CLIENTS, pipelining: 1 });
  try {
    return await poll(pool, '/', body === null ? { 'if-none-match': etag } : {}, body === null ? 304 : 200, REFERENCE_SECONDS * 1000);
  } finally {
    await pool.close();
    await new Promise((resolve) => server.close(resolve));
  }
}
