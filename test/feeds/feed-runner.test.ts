import test from 'ava';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { zstdCompressSync } from 'node:zlib';
import { UNCHANGED, type Updater } from '../../src/ecosystems/updater.ts';
import type { VulnerabilityRecord } from '../../src/ecosystems/vulnerability-record.ts';
import { downloadToSpool } from '../../src/feeds/download-to-spool.ts';
import { FeedRunner } from '../../src/feeds/feed-runner.ts';
import { UndiciFeedHttp } from '../../src/feeds/undici-feed-http.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { PgVulnerabilityStore } from '../../src/store/vulnerability-store.ts';
import { createTestDatabase, useDatabase } from '../helpers/database.ts';
import { serve } from '../helpers/http.ts';

const database = useDatabase(test, 'feed_runner');

/** A feed of JSON lines `{cve, pkg, fixed}`, served with an ETag; `body` is what it serves now. */
async function feedServer(t: Parameters<typeof serve>[0]) {
  const state = { body: '', requests: 0 };
  const base = await serve(t, (req: IncomingMessage, res: ServerResponse) => {
    state.requests += 1;
    const etag = `"${createHash('sha256').update(state.body).digest('hex').slice(0, 16)}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304).end();
      return;
    }
    res.writeHead(200, { etag, 'content-type': 'application/x-ndjson' }).end(state.body);
  });
  return { state, url: `${base}/feed/data.jsonl` };
}

/** A real updater over the real feed HTTP client: conditional fetch to the spool, line-by-line parse. */
function jsonLinesUpdater(name: string): Updater {
  return {
    name,
    version: '1',
    defaultUrl: 'http://127.0.0.1/unused',
    async fetch(ctx) {
      const got = await downloadToSpool(ctx.http, ctx.url, ctx.spoolDir, 'data.jsonl', ctx.validators[ctx.url]);
      if (got.file === null) return UNCHANGED;
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(got.file)) hash.update(chunk as Buffer);
      return { fingerprint: hash.digest('hex'), validators: { [ctx.url]: { etag: got.etag, lastModified: got.lastModified } }, files: [got.file] };
    },
    async *parse(fetched) {
      const lines = createInterface({ input: createReadStream(fetched.files[0]!) });
      for await (const line of lines) {
        if (line.trim() === '') continue;
        const { cve, pkg, fixed, severity } = JSON.parse(line) as { cve: string; pkg: string; fixed: string | null; severity?: string };
        const record: VulnerabilityRecord = {
          updater: name, name: cve, aliases: [], ecosystem: 'dpkg', distribution: 'debian:bookworm', repository: null, module: null,
          packageName: pkg, packageKind: 'source', arch: null, affectedRange: null, fixedVersion: fixed,
          state: fixed === null ? 'not_fixed' : 'fixed', stateReason: null, vendorSeverity: severity ?? 'medium',
          normalizedSeverity: severity === 'high' ? 'High' : 'Medium', severitySource: 'vendor', cvss: [], description: null,
          links: [`https://security-tracker.debian.org/tracker/${cve}`], publishedAt: null, modifiedAt: null,
        };
        yield record;
      }
    },
  };
}

const lines = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n');

async function setup(t: Parameters<typeof serve>[0], name: string, options: { ownDatabase?: boolean } = {}) {
  let db = await database();
  if (options.ownDatabase) {
    // An updater's first run drops every cached report, so a test that counts reports needs its own database.
    db = await createTestDatabase('feed_runner_reports');
    t.teardown(() => db.drop());
  }
  const server = await feedServer(t);
  const http = new UndiciFeedHttp({ allowedBases: [server.url], maxBytes: 1 << 20 });
  t.teardown(() => http.close());
  const store = new PgVulnerabilityStore(db.knex);
  const runner = new FeedRunner({ store, databaseUrl: db.url, logger: createLogger('silent') });
  const source = { updater: jsonLinesUpdater(name), url: server.url, http };
  return { db, server, store, runner, source };
}

test('first run loads, an unchanged feed costs one conditional request, a change is stored as a diff', async (t) => {
  const { db, server, store, runner, source } = await setup(t, 'lines-a');
  server.state.body = lines([
    { cve: 'CVE-2026-0001', pkg: 'openssl', fixed: null },
    { cve: 'CVE-2026-0002', pkg: 'zlib', fixed: '1:1.2.13.dfsg-1' },
    { cve: 'CVE-2026-0003', pkg: 'curl', fixed: '7.88.1-10' },
  ]);
  const first = await runner.run(source);
  t.is(first.state, 'changed');
  if (first.state !== 'changed') return;
  t.like(first.counts, { total: 3, added: 3, removed: 0, changed: 0 });
  t.is(await db.knex('vulnerabilities').where({ updater: 'lines-a' }).count('* as n').first().then((r) => Number(r?.n)), 3);
  t.deepEqual(await store.diff(first.runId), [], 'a first load records no per-row diff');

  const before = server.state.requests;
  const second = await runner.run(source);
  t.is(second.state, 'unchanged');
  t.is(server.state.requests - before, 1, 'one conditional request, answered 304');

  // A fix appears for openssl, zlib's advisory is withdrawn, a new one arrives.
  server.state.body = lines([
    { cve: 'CVE-2026-0001', pkg: 'openssl', fixed: '3.0.15-1~deb12u1' },
    { cve: 'CVE-2026-0003', pkg: 'curl', fixed: '7.88.1-10' },
    { cve: 'CVE-2026-0004', pkg: 'glibc', fixed: null, severity: 'high' },
  ]);
  const third = await runner.run(source);
  t.is(third.state, 'changed');
  if (third.state !== 'changed') return;
  t.like(third.counts, { total: 3, added: 1, removed: 1, changed: 1 });
  const diff = await store.diff(third.runId);
  const byName = new Map(diff.map((d) => [((d.after ?? d.before) as { name: string }).name, d]));
  t.is(byName.get('CVE-2026-0001')?.change, 'changed');
  t.deepEqual(byName.get('CVE-2026-0001')?.fields, ['fixed_version', 'state']);
  t.like(byName.get('CVE-2026-0001')?.after as object, { fixed_version: '3.0.15-1~deb12u1', state: 'fixed' });
  t.like(byName.get('CVE-2026-0001')?.before as object, { fixed_version: null, state: 'not_fixed' });
  t.is(byName.get('CVE-2026-0002')?.change, 'removed');
  t.is(byName.get('CVE-2026-0004')?.change, 'added');
  const names = await db.knex('vulnerabilities').where({ updater: 'lines-a' }).orderBy('name').pluck('name');
  t.deepEqual(names, ['CVE-2026-0001', 'CVE-2026-0003', 'CVE-2026-0004']);
});

test('a malformed feed fails the run, keeps the previous data and says why', async (t) => {
  const { db, server, store, runner, source } = await setup(t, 'lines-b');
  server.state.body = lines([{ cve: 'CVE-2026-0100', pkg: 'bash', fixed: '5.2.15-2+b2' }]);
  t.is((await runner.run(source)).state, 'changed');
  server.state.body = `${lines([{ cve: 'CVE-2026-0101', pkg: 'dash', fixed: null }])}\n{"cve": "CVE-2026-01`;
  const failed = await runner.run(source);
  t.is(failed.state, 'failed');
  if (failed.state !== 'failed') return;
  t.regex(failed.error, /JSON/);
  t.deepEqual(await db.knex('vulnerabilities').where({ updater: 'lines-b' }).pluck('name'), ['CVE-2026-0100']);
  const status = (await store.latestRuns()).find((r) => r.updater === 'lines-b');
  t.is(status?.state, 'failed');
  t.regex(status?.error ?? '', /JSON/);
  // The next good run compares against the last good data, not the failed attempt.
  server.state.body = lines([{ cve: 'CVE-2026-0100', pkg: 'bash', fixed: '5.2.15-2+b2' }]);
  t.is((await runner.run(source)).state, 'unchanged');
});

test('a run invalidates cached reports of images that hold a touched package, and only those', async (t) => {
  const { db, server, runner, source } = await setup(t, 'lines-c', { ownDatabase: true });
  server.state.body = lines([{ cve: 'CVE-2026-0200', pkg: 'libxml2', fixed: null }]);
  t.is((await runner.run(source)).state, 'changed');
  const layer = await db.knex('layers').insert({ digest: `sha256:${'1'.repeat(64)}` }).returning('id').then((r) => r[0].id);
  const makeImage = async (digest: string, pkg: string) => {
    const [m] = await db.knex('manifests').insert({ digest, media_type: 'application/vnd.oci.image.manifest.v1+json', kind: 'image' }).returning('id');
    const [p] = await db.knex('packages').insert({ key: `${pkg}-key-${digest.slice(-4)}`, ecosystem: 'dpkg', name: `${pkg}2`, version: '1', source_name: pkg, source_version: '1' }).returning('id');
    await db.knex('manifest_packages').insert({ manifest_id: m.id, package_id: p.id, path: 'var/lib/dpkg/status', introduced_in: layer });
    await db.knex('reports').insert({ manifest_id: m.id, generation: 1, etag: 'x', report_zstd: zstdCompressSync('{}') });
    return m.id;
  };
  const touched = await makeImage(`sha256:${'2'.repeat(64)}`, 'libxml2');
  const untouched = await makeImage(`sha256:${'3'.repeat(64)}`, 'zstd');
  server.state.body = lines([{ cve: 'CVE-2026-0200', pkg: 'libxml2', fixed: '2.9.14+dfsg-1.3~deb12u1' }]);
  const run = await runner.run(source);
  t.is(run.state, 'changed');
  if (run.state === 'changed') t.is(run.counts.reportsInvalidated, 1);
  t.deepEqual(await db.knex('reports').whereIn('manifest_id', [touched, untouched]).pluck('manifest_id'), [untouched]);
});

test('two runs of one updater at once: the second is refused by the lock', async (t) => {
  const { server, runner, source } = await setup(t, 'lines-d');
  server.state.body = lines(Array.from({ length: 3000 }, (_, i) => ({ cve: `CVE-2026-${10000 + i}`, pkg: `pkg${i % 50}`, fixed: null })));
  const [a, b] = await Promise.all([runner.run(source), runner.run(source)]);
  t.deepEqual([a.state, b.state].sort(), ['changed', 'locked']);
});

test('a run abandoned mid-parse (its time is up) fails with the reason and keeps the previous data', async (t) => {
  const { db, server, store, runner, source } = await setup(t, 'lines-e');
  server.state.body = lines([{ cve: 'CVE-2026-0500', pkg: 'bash', fixed: null }]);
  t.is((await runner.run(source)).state, 'changed');
  server.state.body = lines([
    { cve: 'CVE-2026-0500', pkg: 'bash', fixed: '5.2.15-2+b3' },
    { cve: 'CVE-2026-0501', pkg: 'dash', fixed: null },
    { cve: 'CVE-2026-0502', pkg: 'zsh', fixed: null },
  ]);
  const timeout = new AbortController();
  const inner = source.updater;
  // The time runs out once the first record has been read.
  const slow: Updater = {
    ...inner,
    async *parse(fetched) {
      for await (const record of inner.parse(fetched)) {
        yield record;
        timeout.abort(new Error('the run took longer than feeds.timeoutMinutes (1 min)'));
      }
    },
  };
  const failed = await runner.run({ ...source, updater: slow }, timeout.signal);
  t.is(failed.state, 'failed');
  if (failed.state !== 'failed') return;
  t.regex(failed.error, /took longer than feeds\.timeoutMinutes/);
  const rows = await db.knex('vulnerabilities').where({ updater: 'lines-e' }).select('name', 'fixed_version');
  t.deepEqual(rows, [{ name: 'CVE-2026-0500', fixed_version: null }], 'nothing of the abandoned run was kept');
  t.is((await store.latestRuns()).find((r) => r.updater === 'lines-e')?.state, 'failed');
  t.is((await runner.run(source)).state, 'changed', 'the next run loads the new data');
});
