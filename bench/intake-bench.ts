import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { Pool } from 'undici';
import type { Bench, BenchContext } from './figure.ts';
import { freePort, startServe, stopServe } from './bench-serve.ts';

const SECRET = 'bench-webhook-secret';
const SUSTAIN_SECONDS = 30;
const RATE = 1000;
const RATE_SECONDS = 20;

/**
 * Webhook intake on loopback: `lookout serve --roles api` in its own process (so the load generator
 * does not share its event loop), Distribution-shaped push events from this process.
 * Figures: events/s sustained for 30 s at full speed, p50/p99 latency at 1,000 events/s, and the
 * stored-event count against the count sent. Reference: the same client against a bare Node HTTP
 * server answering 202 (the cost of HTTP alone).
 */
const bench: Bench = async (ctx) => {
  const { url: databaseUrl, drop } = await database(ctx);
  const port = await freePort();
  ctx.log(databaseUrl ? 'lookout on the PostgreSQL server' : 'lookout on the embedded engine');
  const lookout = await startServe(ctx, port, {
    LOOKOUT_REGISTRIES: JSON.stringify([{ name: 'local', url: 'http://127.0.0.1:5000', webhookSecret: SECRET }]),
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    const pool = new Pool(base, { connections: 32, keepAliveTimeout: 10_000 });
    await send(pool, 200); // warm-up
    ctx.log(`sustained load for ${SUSTAIN_SECONDS} s`);
    const sustained = await sustain(pool, SUSTAIN_SECONDS * 1000, 32);
    ctx.log(`${RATE} events/s for ${RATE_SECONDS} s`);
    const paced = await paced_(pool, RATE, RATE_SECONDS * 1000);
    await pool.close();

    const reference = await referenceServer(ctx);
    const sent = 200 + sustained.sent + paced.sent;
    const stored = await count(databaseUrl || `postgresql://postgres@localhost/lookout?host=${encodeURIComponent(path.join(ctx.tmpDir, 'data', 'run'))}`);
    ctx.emit({
      name: 'intake.events_per_second',
      value: round(sustained.sent / (sustained.ms / 1000)),
      unit: 'events/s',
      reference: { name: 'bare Node HTTP server answering 202', value: reference.rate, unit: 'requests/s' },
      target: '>= 2000 events/s',
      errors: sustained.errors,
    });
    ctx.emit({ name: 'intake.latency_p50_at_1000_per_s', value: paced.p50, unit: 'ms', reference: { name: 'bare server p50', value: reference.p50, unit: 'ms' } });
    ctx.emit({
      name: 'intake.latency_p99_at_1000_per_s',
      value: paced.p99,
      unit: 'ms',
      reference: { name: 'bare server p99', value: reference.p99, unit: 'ms' },
      target: '<= 50 ms',
      achievedRate: paced.achievedRate,
    });
    ctx.emit({ name: 'intake.stored_vs_sent', value: stored, unit: 'events', reference: { name: 'events answered 202', value: sent - sustained.errors - paced.errors, unit: 'events' } });
  } finally {
    await stopServe(lookout);
    await drop();
  }
};
export default bench;

function body(): string {
  const id = randomUUID();
  return JSON.stringify({
    events: [
      {
        id,
        timestamp: new Date().toISOString(),
        action: 'push',
        target: {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          size: 345,
          digest: `sha256:${id.replaceAll('-', '').padEnd(64, '0')}`,
          length: 345,
          repository: 'bench/app',
          url: 'http://127.0.0.1:5000/v2/bench/app/manifests/x',
          tag: 'v1',
        },
        request: { id: randomUUID(), addr: '127.0.0.1:1', host: '127.0.0.1:5000', method: 'PUT', useragent: 'bench' },
        actor: {},
        source: { addr: 'bench:5000', instanceID: 'bench' },
      },
    ],
  });
}

async function post(pool: Pool, path = '/webhooks/distribution/local'): Promise<number> {
  const res = await pool.request({
    method: 'POST',
    path,
    headers: { 'content-type': 'application/vnd.docker.distribution.events.v1+json', authorization: `Bearer ${SECRET}` },
    body: body(),
  });
  await res.body.dump();
  return res.statusCode;
}

async function send(pool: Pool, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, () => post(pool)));
}

async function sustain(pool: Pool, ms: number, inFlight: number, target = '/webhooks/distribution/local') {
  const end = performance.now() + ms;
  let sent = 0;
  let errors = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        const status = await post(pool, target);
        sent += 1;
        if (status !== 202) errors += 1;
      }
    }),
  );
  return { sent, errors, ms: performance.now() - start };
}

/** Opens requests at a fixed rate (not waiting for answers), measuring each one's latency. */
async function paced_(pool: Pool, rate: number, ms: number, target = '/webhooks/distribution/local') {
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  let errors = 0;
  const start = performance.now();
  const total = Math.floor((rate * ms) / 1000);
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    pending.push(
      post(pool, target).then((status) => {
        latencies.push(performance.now() - t0);
        if (status !== 202) errors += 1;
      }),
    );
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { sent: total, errors, p50: round(percentile(latencies, 0.5)), p99: round(percentile(latencies, 0.99)), achievedRate: round(total / elapsed) };
}

async function referenceServer(ctx: BenchContext) {
  ctx.log('reference: bare Node HTTP server');
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":1}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: 32 });
  const sustained = await sustain(pool, 10_000, 32, '/');
  const paced = await paced_(pool, RATE, 10_000, '/');
  await pool.close();
  await new Promise((r) => server.close(r));
  return { rate: round(sustained.sent / (sustained.ms / 1000)), p50: paced.p50, p99: paced.p99 };
}

async function database(ctx: BenchContext): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!ctx.serverUrl) return { url: '', drop: async () => undefined };
  const name = `lookout_bench_intake_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: ctx.serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(ctx.serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: ctx.serverUrl! });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

async function count(databaseUrl: string): Promise<number> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  const { rows } = await c.query<{ n: number }>('select count(*)::int as n from webhook_events');
  await c.end();
  return rows[0]!.n;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
