import anyTest, { type TestFn } from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { ClairIndexer } from '../../src/compat/clair-indexer.ts';
import { ClairMatcher } from '../../src/compat/clair-matcher.ts';
import { ClairNotifier } from '../../src/compat/clair-notifier.ts';
import { PgClairStore } from '../../src/compat/clair-store.ts';
import { CLAIR_CVSS_ENRICHMENT, type ClairIndexReport, type ClairVulnerabilityReport } from '../../src/compat/clair-types.ts';
import { allScanners } from '../../src/ecosystems/index.ts';
import { createAuth } from '../../src/http/auth/create-auth.ts';
import { clairRoutes } from '../../src/http/routes/clair-routes.ts';
import { ManifestIndexer } from '../../src/indexer/manifest-indexer.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { PgLayerStore } from '../../src/store/layer-store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { HAVE_FIXTURES, NO_FIXTURES } from '../helpers/fixtures.ts';
import { blobPath, HAVE_TOKEN_TOOLS, NO_OPENSSL, pushImage, startRegistry, startTokenService, type RunningRegistry, type TokenService } from '../helpers/registry-harness.ts';
import {
  blobGets,
  buildDebianImages,
  buildServices,
  clairTypesDir,
  HAVE_REFERENCE,
  loadVulnerabilities,
  NO_REFERENCE,
  registryConfig,
  serveRouters,
  type CompatServices,
  type DebianImages,
} from './compat-harness.ts';
import { SchemaCheck } from './schema-check.ts';

interface Context {
  dir: string;
  db: TestDatabase;
  tokens: TokenService;
  registry: RunningRegistry;
  images: DebianImages;
  services: CompatServices;
  /** The Clair routes as configured (registry only). */
  url: string;
  /** A second app whose indexer also allows the storage origin, one index at a time. */
  storageUrl: string;
  storage: { origin: string; release(): void; slowRequests: number; server: Server };
  key: Buffer;
  schemas: SchemaCheck;
  closers: Array<() => Promise<void>>;
}

const test = anyTest as TestFn<Context>;
const ready = HAVE_TOKEN_TOOLS && HAVE_FIXTURES && HAVE_REFERENCE;
const maybe = ready ? test.serial : test.serial.skip;
const note = !HAVE_TOKEN_TOOLS ? NO_OPENSSL : !HAVE_FIXTURES ? NO_FIXTURES : !HAVE_REFERENCE ? NO_REFERENCE : '';
const PUSHER = { username: 'pusher', password: 'pusher-pw-S3cr3t' };
const SIGNATURE = 'X-Amz-Signature=not-for-logs';

/**
 * A stand-in for pre-signed blob storage: serves the registry's blob files when the URL carries a
 * signature; `/slow/…` sends the headers, then waits for `release()` before the body.
 */
async function startStorage(registry: RunningRegistry): Promise<Context['storage']> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const storage: Context['storage'] = { origin: '', release: () => release(), slowRequests: 0, server: null as unknown as Server };
  storage.server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://storage');
    const match = /^\/(slow\/)?blobs\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
    if (!match || !url.searchParams.has('X-Amz-Signature')) {
      res.writeHead(404).end();
      return;
    }
    const send = () => createReadStream(blobPath(registry, match[2]!)).on('error', () => res.destroy()).pipe(res);
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.flushHeaders();
    if (match[1]) {
      storage.slowRequests++;
      void gate.then(send);
    } else {
      send();
    }
  });
  await new Promise<void>((resolve) => storage.server.listen(0, '127.0.0.1', resolve));
  storage.origin = `http://127.0.0.1:${(storage.server.address() as AddressInfo).port}`;
  return storage;
}

if (ready) {
  test.before(async (t) => {
    const closers: Array<() => Promise<void>> = [];
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-clair-'));
    const images = await buildDebianImages(dir);
    const tokens = await startTokenService({ users: { pusher: { password: PUSHER.password, actions: ['pull', 'push'] } } });
    const registry = await startRegistry({ tokenAuth: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.rootCertBundle } });
    await pushImage(dir, 'app', registry, 'demo/app:v1', { creds: PUSHER });
    await pushImage(dir, 'other', registry, 'demo/other:v1', { creds: PUSHER });
    const db = await createTestDatabase('compat_clair');
    await loadVulnerabilities(db);
    const services = await buildServices(db, [registryConfig('local', registry.url)]);
    const key = randomBytes(32);
    const logger = createLogger('silent');
    const auth = createAuth({ mode: 'psk', key: key.toString('base64'), issuers: ['quay'], leewaySeconds: 15 }, { logger });
    const { clair } = services.compat;
    const served = await serveRouters([clairRoutes({ ...clair, auth, logger })]);
    closers.push(served.close, () => services.compat.close(), () => services.registries.close());

    const storage = await startStorage(registry);
    closers.push(() => new Promise<void>((resolve) => storage.server.close(() => resolve())));
    const store = new PgClairStore(db.knex);
    const storageIndexer = new ClairIndexer({
      store,
      images: services.images,
      indexer: services.indexer,
      reports: services.reports,
      registries: [registryConfig('local', registry.url)],
      allowedLayerOrigins: [storage.origin],
      databaseUrl: db.url,
      logger,
      limits: { indexConcurrency: 1 },
    });
    closers.push(() => storageIndexer.close());
    const second = await serveRouters([
      clairRoutes({ indexer: storageIndexer, matcher: new ClairMatcher({ store, reports: services.reports }), notifier: new ClairNotifier({ store, notifications: services.notifications }), auth, logger }),
    ]);
    closers.push(second.close);
    t.context = { dir, db, tokens, registry, images, services, url: served.url, storageUrl: second.url, storage, key, schemas: new SchemaCheck({ dir: clairTypesDir() }), closers };
  });

  test.after.always(async (t) => {
    for (const close of (t.context.closers ?? []).reverse()) await close().catch(() => undefined);
    await t.context.registry?.stop();
    await t.context.tokens?.stop();
    await t.context.db?.drop();
    if (t.context.dir) await rm(t.context.dir, { recursive: true, force: true });
  });
}

/** Quay's token to Clair: HS256 with the PSK, `iss: quay`, five minutes. */
async function quayToken(key: Buffer, issuer = 'quay'): Promise<string> {
  return new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuer(issuer).setExpirationTime('5m').sign(key);
}

async function call(t: { context: Context }, method: string, pathname: string, options: { body?: unknown; headers?: Record<string, string>; base?: string } = {}) {
  const res = await fetch(`${options.base ?? t.context.url}${pathname}`, {
    method,
    headers: {
      authorization: `Bearer ${await quayToken(t.context.key)}`,
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text === '' ? undefined : (JSON.parse(text) as any) };
}

/** The manifest Quay submits for `image`: each layer's registry blob URL with a pull token (and Accept), as Quay does. */
async function quayManifest(t: { context: Context }, repository: string, image: { digest: string; layers?: Array<{ digest: string }> }, withToken = true) {
  const token = await t.context.tokens.mint('quay', [{ type: 'repository', name: repository, actions: ['pull'] }], 60);
  return {
    hash: image.digest,
    layers: image.layers!.map((l) => ({
      hash: l.digest,
      uri: `${t.context.registry.url}/v2/${repository}/blobs/${l.digest}`,
      headers: { Accept: ['application/gzip'], ...(withToken ? { Authorization: [`Bearer ${token}`] } : {}) },
    })),
  };
}

maybe(`index_state: the indexer state with its ETag, 304 for a matching If-None-Match; a different scanner set is a different state${note}`, async (t) => {
  const res = await call(t, 'GET', '/indexer/api/v1/index_state');
  t.is(res.status, 200);
  t.deepEqual(t.context.schemas.check('index_state.schema.json', res.json), []);
  t.is(res.headers.get('etag'), `"${res.json.state}"`);
  t.regex(res.headers.get('content-type') ?? '', /^application\/vnd\.clair\.index_state\.v1\+json/);
  t.is(res.json.state, t.context.services.indexer.fingerprint);
  const again = await call(t, 'GET', '/indexer/api/v1/index_state', { headers: { 'if-none-match': res.headers.get('etag')! } });
  t.is(again.status, 304);
  t.is(again.text, '');

  const fewer = new ManifestIndexer({ layerStore: new PgLayerStore(t.context.db.knex), scanners: allScanners().slice(1), databaseUrl: t.context.db.url, logger: createLogger('silent'), layerConcurrency: 1 });
  t.not(fewer.fingerprint, res.json.state, 'dropping a scanner changes the state clients re-index on');
});

maybe(`authentication: no token, or one from an unknown issuer, is a 401 in Clair's error shape${note}`, async (t) => {
  const none = await call(t, 'GET', '/indexer/api/v1/index_state', { headers: { authorization: '' } });
  t.is(none.status, 401);
  t.is(none.json.code, 'unauthorized');
  t.deepEqual(t.context.schemas.check('error.schema.json', none.json), []);
  const stranger = await call(t, 'GET', '/indexer/api/v1/index_state', { headers: { authorization: `Bearer ${await quayToken(t.context.key, 'someone')}` } });
  t.is(stranger.status, 401);
  t.regex(stranger.json.message, /invalid token/);
});

maybe(`a layer fetched without the registry token Quay puts in its headers fails the index (IndexError, err says why)${note}`, async (t) => {
  const { app } = t.context.images;
  const res = await call(t, 'POST', '/indexer/api/v1/index_report', { body: await quayManifest(t, 'demo/app', app, false) });
  t.is(res.status, 201);
  const report = res.json as ClairIndexReport;
  t.deepEqual(t.context.schemas.check('index_report.schema.json', report), []);
  t.like(report, { manifest_hash: app.digest, state: 'IndexError', success: false, packages: {} });
  t.regex(report.err, /401/);
});

maybe(`Quay's flow: POST index_report fetches each layer from its URI with the given headers → 201 IndexReport with Location, Links and the state as ETag${note}`, async (t) => {
  const { app, base } = t.context.images;
  const body = await quayManifest(t, 'demo/app', app);
  const started = performance.now();
  const res = await call(t, 'POST', '/indexer/api/v1/index_report', { body });
  t.log(`POST index_report, 2 layers fetched and scanned, report made: ${(performance.now() - started).toFixed(0)} ms`);
  t.is(res.status, 201, res.text);
  t.is(res.headers.get('location'), `/indexer/api/v1/index_report/${app.digest}`);
  const links = res.headers.get('link') ?? '';
  t.true(links.includes(`</indexer/api/v1/index_report/${app.digest}>; rel="https://projectquay.io/clair/v1/index_report"`));
  t.true(links.includes(`</matcher/api/v1/vulnerability_report/${app.digest}>; rel="https://projectquay.io/clair/v1/vulnerability_report"`));
  t.is(res.headers.get('etag'), `"${t.context.services.indexer.fingerprint}"`);
  t.regex(res.headers.get('content-type') ?? '', /^application\/vnd\.clair\.index_report\.v1\+json/);

  const report = res.json as ClairIndexReport;
  t.deepEqual(t.context.schemas.check('index_report.schema.json', report), []);
  t.like(report, { manifest_hash: app.digest, state: 'IndexFinished', success: true, err: '' });
  const byName = new Map(Object.values(report.packages).map((p) => [p.name, p]));
  t.deepEqual([...byName.keys()].sort(), ['atomicparsley', 'curl', 'libsope1', 'requests']);
  t.like(byName.get('libsope1'), { version: '5.8.0-1', kind: 'BINARY', source: { name: 'sope', version: '5.8.0-1', kind: 'SOURCE' } });
  const [dist] = Object.values(report.distributions);
  t.like(dist, { did: 'debian', version_id: '12', version_code_name: 'bookworm', version: '12 (bookworm)', pretty_name: 'Debian GNU/Linux 12 (bookworm)' });
  const sope = report.environments[byName.get('libsope1')!.id!]!;
  t.deepEqual(sope, [{ package_db: 'var/lib/dpkg/status', introduced_in: base.digest, distribution_id: dist!.id }]);
  const requests = report.environments[byName.get('requests')!.id!]![0]!;
  t.is(requests.introduced_in, app.layers![1]!.digest);
  t.deepEqual(requests.repository_ids, ['repo:pypi']);
  t.like(report.repository['repo:pypi'], { name: 'pypi' });

  const log = await t.context.registry.log();
  t.is(blobGets(log, base.digest), 1, 'each layer fetched once');
  t.is(blobGets(log, app.layers![1]!.digest), 1);
});

maybe(`vulnerability_report: Clair's VulnerabilityReport of the indexed image, valid against the schema, with what Quay reads${note}`, async (t) => {
  const { app } = t.context.images;
  const started = performance.now();
  const res = await call(t, 'GET', `/matcher/api/v1/vulnerability_report/${app.digest}`);
  t.log(`GET vulnerability_report (cached report, Clair rendering): ${(performance.now() - started).toFixed(1)} ms`);
  t.is(res.status, 200, res.text);
  t.regex(res.headers.get('content-type') ?? '', /^application\/vnd\.clair\.vulnerability_report\.v1\+json/);
  const report = res.json as ClairVulnerabilityReport;
  t.deepEqual(t.context.schemas.check('vulnerability_report.schema.json', report), []);
  for (const vuln of Object.values(report.vulnerabilities)) t.deepEqual(t.context.schemas.check('vulnerability.schema.json', vuln), [], vuln.name);

  const idOf = (name: string) => Object.values(report.packages).find((p) => p.name === name)!.id!;
  const namesOf = (pkg: string) => (report.package_vulnerabilities[idOf(pkg)] ?? []).map((id) => report.vulnerabilities[id]!.name).sort();
  t.deepEqual(namesOf('libsope1'), ['CVE-2025-53603']);
  t.deepEqual(namesOf('atomicparsley'), ['CVE-2021-37231', 'CVE-2021-37232']);
  t.deepEqual(namesOf('curl'), []);
  const sopeVulnId = report.package_vulnerabilities[idOf('libsope1')]![0]!;
  t.like(report.vulnerabilities[sopeVulnId], {
    id: sopeVulnId,
    updater: 'debian',
    name: 'CVE-2025-53603',
    fixed_in_version: '5.8.0-1+deb12u1',
    severity: 'not yet assigned',
    normalized_severity: 'High',
    links: 'https://security-tracker.debian.org/tracker/CVE-2025-53603',
    package: { name: 'sope', kind: 'SOURCE' },
    arch_op: 'equals',
    distribution: { did: 'debian', version_code_name: 'bookworm' },
  });
  t.deepEqual(report.enrichments[CLAIR_CVSS_ENRICHMENT], [{ [sopeVulnId]: [{ version: '3.1', vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', baseScore: 7.5, baseSeverity: 'HIGH' }] }]);

  // What Quay's features_for reads without a default: an environment with introduced_in for every
  // package; links, description, fixed_in_version, updater and normalized_severity on every vulnerability.
  for (const id of Object.keys(report.packages)) t.truthy(report.environments[id]?.[0]?.introduced_in, `environment of package ${id}`);
  for (const v of Object.values(report.vulnerabilities)) {
    for (const field of ['links', 'description', 'fixed_in_version', 'updater', 'normalized_severity'] as const) t.is(typeof v[field], 'string', `${v.name}.${field}`);
  }

  const cached = await call(t, 'GET', `/matcher/api/v1/vulnerability_report/${app.digest}`, { headers: { 'if-none-match': res.headers.get('etag')! } });
  t.is(cached.status, 304);
});

maybe(`a manifest already indexed with the current state is answered from storage; If-None-Match with that state is 412${note}`, async (t) => {
  const { app, base } = t.context.images;
  const before = blobGets(await t.context.registry.log(), base.digest);
  const body = await quayManifest(t, 'demo/app', app);
  const started = performance.now();
  const res = await call(t, 'POST', '/indexer/api/v1/index_report', { body });
  t.log(`POST index_report of a manifest already indexed: ${(performance.now() - started).toFixed(1)} ms`);
  t.is(res.status, 201);
  t.is(res.json.state, 'IndexFinished');
  t.is(blobGets(await t.context.registry.log(), base.digest), before, 'nothing fetched again');
  const state = t.context.services.indexer.fingerprint;
  const precondition = await call(t, 'POST', '/indexer/api/v1/index_report', { body: await quayManifest(t, 'demo/app', app), headers: { 'if-none-match': `"${state}"` } });
  t.is(precondition.status, 412);
  t.is(precondition.json.code, 'precondition-failed');
});

maybe(`GET index_report: the stored report with ETag and 304; unknown digest 404, malformed digest 400, in Clair's error shape${note}`, async (t) => {
  const { app } = t.context.images;
  const res = await call(t, 'GET', `/indexer/api/v1/index_report/${app.digest}`);
  t.is(res.status, 200);
  t.deepEqual(t.context.schemas.check('index_report.schema.json', res.json), []);
  t.is(res.json.state, 'IndexFinished');
  t.is(Object.keys(res.json.packages).length, 4);
  t.is((await call(t, 'GET', `/indexer/api/v1/index_report/${app.digest}`, { headers: { 'if-none-match': res.headers.get('etag')! } })).status, 304);
  const unknown = await call(t, 'GET', `/indexer/api/v1/index_report/sha256:${'0'.repeat(64)}`);
  t.is(unknown.status, 404);
  t.is(unknown.json.code, 'not-found');
  t.deepEqual(t.context.schemas.check('error.schema.json', unknown.json), []);
  const bad = await call(t, 'GET', '/indexer/api/v1/index_report/sha256:nothex');
  t.is(bad.status, 400);
  t.is(bad.json.code, 'bad-request');
  t.is((await call(t, 'GET', `/matcher/api/v1/vulnerability_report/sha256:${'0'.repeat(64)}`)).status, 404);
});

maybe(`bad manifests are 400 before anything is fetched: no layers, no hash, bad JSON, a layer URI off the configured registries${note}`, async (t) => {
  const { other } = t.context.images;
  for (const body of [{ hash: other.digest, layers: [] }, { layers: [{ hash: other.digest, uri: t.context.registry.url }] }, '{"hash": ', [1, 2]]) {
    const res = await call(t, 'POST', '/indexer/api/v1/index_report', { body });
    t.is(res.status, 400, JSON.stringify(body));
    t.is(res.json.code, 'bad-request');
    t.deepEqual(t.context.schemas.check('error.schema.json', res.json), []);
  }
  // Quay's pre-signed storage URL: not a configured registry and not allowed here.
  const manifest = {
    hash: other.digest,
    layers: other.layers!.map((l) => ({ hash: l.digest, uri: `${t.context.storage.origin}/blobs/${l.digest}?${SIGNATURE}`, headers: { Accept: ['application/gzip'] } })),
  };
  const refused = await call(t, 'POST', '/indexer/api/v1/index_report', { body: manifest });
  t.is(refused.status, 400);
  t.regex(refused.json.message, /not on a configured registry or an allowed layer origin/);
  t.false(refused.text.includes('not-for-logs'), 'the URL query (a signature) is not echoed');
  t.is(await t.context.services.images.manifestByDigest(other.digest), null, 'nothing stored');
});

maybe(`an allowed storage origin (pre-signed URLs, only Accept) is fetched; a second submission while one runs is 429${note}`, async (t) => {
  const { other } = t.context.images;
  const manifest = (prefix: string) => ({
    hash: other.digest,
    layers: other.layers!.map((l) => ({ hash: l.digest, uri: `${t.context.storage.origin}/${prefix}blobs/${l.digest}?${SIGNATURE}`, headers: { Accept: ['application/gzip'] } })),
  });
  const slow = call(t, 'POST', '/indexer/api/v1/index_report', { body: manifest('slow/'), base: t.context.storageUrl });
  // Wait until the slow submission is fetching its layer, then submit again.
  for (let i = 0; i < 400 && t.context.storage.slowRequests === 0; i++) await new Promise((r) => setTimeout(r, 25));
  t.is(t.context.storage.slowRequests, 1);
  const busy = await call(t, 'POST', '/indexer/api/v1/index_report', { body: manifest(''), base: t.context.storageUrl });
  t.is(busy.status, 429);
  t.is(busy.json.code, 'too-many-requests');
  t.truthy(busy.headers.get('retry-after'));
  t.context.storage.release();
  const done = await slow;
  t.is(done.status, 201, done.text);
  t.like(done.json, { state: 'IndexFinished', success: true }, done.json.err);
  t.deepEqual(Object.values(done.json.packages as ClairIndexReport['packages']).map((p) => p.name).sort(), ['atomicparsley', 'curl', 'left-pad', 'libsope1']);
});

maybe(`a layer that does not hash to its digest: IndexError naming the mismatch, and no vulnerability report${note}`, async (t) => {
  const { base } = t.context.images;
  const fake = (seed: string) => `sha256:${createHash('sha256').update(seed).digest('hex')}`;
  const hash = fake('manifest-with-a-lying-layer');
  const body = { hash, layers: [{ hash: fake('not the base layer'), uri: `${t.context.registry.url}/v2/demo/app/blobs/${base.digest}`, headers: (await quayManifest(t, 'demo/app', t.context.images.app)).layers[0]!.headers }] };
  const res = await call(t, 'POST', '/indexer/api/v1/index_report', { body });
  t.is(res.status, 201);
  t.deepEqual(t.context.schemas.check('index_report.schema.json', res.json), []);
  t.like(res.json, { state: 'IndexError', success: false });
  t.regex(res.json.err, /digest mismatch/);
  t.is((await call(t, 'GET', `/matcher/api/v1/vulnerability_report/${hash}`)).status, 404);
  t.is((await call(t, 'GET', `/indexer/api/v1/index_report/${hash}`)).json.state, 'IndexError');
  t.is((await call(t, 'DELETE', `/indexer/api/v1/index_report/${hash}`)).status, 204);
  t.is((await call(t, 'GET', `/indexer/api/v1/index_report/${hash}`)).status, 404);
});

maybe(`bulk DELETE answers the digests it deleted; a manifest only Clair knew is gone with its report${note}`, async (t) => {
  const { app } = t.context.images;
  const unknown = `sha256:${'1'.repeat(64)}`;
  const res = await call(t, 'DELETE', '/indexer/api/v1/index_report', { body: [app.digest, unknown] });
  t.is(res.status, 200);
  t.deepEqual(res.json, [app.digest]);
  t.deepEqual(t.context.schemas.check('bulk_delete.schema.json', res.json), []);
  t.is((await call(t, 'GET', `/indexer/api/v1/index_report/${app.digest}`)).status, 404);
  t.is((await call(t, 'GET', `/matcher/api/v1/vulnerability_report/${app.digest}`)).status, 404);
  t.is(await t.context.services.images.manifestByDigest(app.digest), null);
  t.is((await call(t, 'DELETE', '/indexer/api/v1/index_report', { body: ['nope'] })).status, 400);
});
