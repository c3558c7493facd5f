import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HarborAdapter } from '../../src/compat/harbor-adapter.ts';
import { PgHarborScanStore } from '../../src/compat/harbor-scan-store.ts';
import { parseHarborScanRequest } from '../../src/compat/parse-harbor-scan-request.ts';
import { createAuth } from '../../src/http/auth/create-auth.ts';
import { harborRoutes } from '../../src/http/routes/harbor-routes.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { HAVE_FIXTURES, NO_FIXTURES } from '../helpers/fixtures.ts';
import { HAVE_TOKEN_TOOLS, NO_OPENSSL, pushImage, startRegistry, startTokenService, type RunningRegistry, type TokenService } from '../helpers/registry-harness.ts';
import {
  buildDebianImages,
  buildServices,
  HAVE_REFERENCE,
  harborSpec,
  loadVulnerabilities,
  NO_REFERENCE,
  referencePayload,
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
  /** `<Lookout>/harbor/api/v1` */
  api: string;
  spec: SchemaCheck;
  closers: Array<() => Promise<void>>;
}

const test = anyTest as TestFn<Context>;
const ready = HAVE_TOKEN_TOOLS && HAVE_FIXTURES && HAVE_REFERENCE;
const maybe = ready ? test.serial : test.serial.skip;
const note = !HAVE_TOKEN_TOOLS ? NO_OPENSSL : !HAVE_FIXTURES ? NO_FIXTURES : !HAVE_REFERENCE ? NO_REFERENCE : '';

const API_KEY = 'harbor-adapter-key-0123456789';
const PUSHER = { username: 'pusher', password: 'pusher-pw-S3cr3t' };
const ROBOT = { username: 'robot$library+scan-1', password: 'robot-secret-S3cr3t' };
const ERROR_TYPE = 'application/vnd.scanner.adapter.error+json; version=1.0';
const REPORT_11 = 'application/vnd.security.vulnerability.report; version=1.1';
const REPORT_HARBOR = 'application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0';
const SBOM = 'application/vnd.security.sbom.report+json; version=1.0';

if (ready) {
  test.before(async (t) => {
    const closers: Array<() => Promise<void>> = [];
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-harbor-'));
    const images = await buildDebianImages(dir);
    const tokens = await startTokenService({
      users: { pusher: { password: PUSHER.password, actions: ['pull', 'push'] }, [ROBOT.username]: { password: ROBOT.password, actions: ['pull'] } },
    });
    const registry = await startRegistry({ tokenAuth: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.rootCertBundle } });
    await pushImage(dir, 'app', registry, 'library/app:v1', { creds: PUSHER });
    await pushImage(dir, 'other', registry, 'library/other:v1', { creds: PUSHER });
    const db = await createTestDatabase('compat_harbor');
    await loadVulnerabilities(db);
    const services = await buildServices(db, [registryConfig('harbor', registry.url)], { harbor: { leaseSeconds: 5 } });
    const logger = createLogger('silent');
    const auth = createAuth({ mode: 'api-key', keys: [API_KEY] }, { logger });
    const served = await serveRouters([harborRoutes({ adapter: services.compat.harbor, auth, logger })]);
    closers.push(served.close, () => services.compat.close(5000), () => services.registries.close());
    t.context = { dir, db, tokens, registry, images, services, api: `${served.url}/harbor/api/v1`, spec: new SchemaCheck({ root: harborSpec() }), closers };
  });

  test.after.always(async (t) => {
    for (const close of (t.context.closers ?? []).reverse()) await close().catch(() => undefined);
    await t.context.registry?.stop();
    await t.context.tokens?.stop();
    await t.context.db?.drop();
    if (t.context.dir) await rm(t.context.dir, { recursive: true, force: true });
  });
}

async function call(t: { context: Context }, method: string, pathname: string, options: { body?: unknown; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${t.context.api}${pathname}`, {
    method,
    redirect: 'manual',
    headers: {
      'x-scanneradapter-api-key': API_KEY,
      ...(options.body !== undefined ? { 'content-type': 'application/vnd.scanner.adapter.scan.request+json; version=1.0', accept: 'application/vnd.scanner.adapter.scan.response+json; version=1.0' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** The reference scan request Harbor sends, pointed at the test registry and an image of it. */
function scanRequest(t: { context: Context }, repository: string, digest: string, authorization: string): Record<string, any> {
  const request = referencePayload('harbor-scanner-scan-request.json') as Record<string, any>;
  return {
    ...request,
    registry: { ...request.registry, url: t.context.registry.url, authorization },
    artifact: { ...request.artifact, repository, digest, tag: 'v1' },
  };
}

const basic = (c: { username: string; password: string }) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

/** Polls the report as Harbor does until it is not a 302; checks each 302 on the way. */
async function pollReport(t: ExecutionContext<Context>, id: string, accept: string, query = '') {
  for (let i = 0; i < 600; i++) {
    const res = await call(t, 'GET', `/scan/${id}/report${query}`, { headers: { accept } });
    if (res.status !== 302) return res;
    const after = Number(res.headers.get('refresh-after'));
    t.true(Number.isInteger(after) && after >= 1 && after <= 127, `Refresh-After ${res.headers.get('refresh-after')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the report never came');
}

function assertError(t: ExecutionContext<Context>, res: { status: number; headers: Headers; json: any }, status: number, message?: RegExp): void {
  t.is(res.status, status);
  t.is(res.headers.get('content-type'), ERROR_TYPE);
  t.deepEqual(t.context.spec.check('#/components/schemas/ErrorResponse', res.json), []);
  t.is(typeof res.json?.error?.message, 'string');
  if (message) t.regex(res.json.error.message, message);
}

maybe(`metadata: capabilities (vulnerability 1.1 and harbor+json reports, SBOMs), properties with the feed update time${note}`, async (t) => {
  const res = await call(t, 'GET', '/metadata', { headers: { accept: 'application/vnd.scanner.adapter.metadata+json; version=1.0' } });
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'application/vnd.scanner.adapter.metadata+json; version=1.0');
  t.deepEqual(t.context.spec.check('#/components/schemas/ScannerAdapterMetadata', res.json), []);
  const reference = referencePayload('harbor-scanner-metadata-response.json') as any;
  t.deepEqual(res.json.capabilities[0], reference.capabilities[0], 'the vulnerability capability Harbor expects');
  t.like(res.json.capabilities[1], { type: 'sbom', produces_mime_types: [SBOM], additional_attributes: { sbom_media_types: ['application/spdx+json', 'application/vnd.cyclonedx+json'] } });
  for (const key of Object.keys(reference.properties)) t.is(typeof res.json.properties[key], 'string', key);
  const latest = await t.context.db.knex('update_runs').whereIn('state', ['changed', 'unchanged']).max('finished_at as at').first();
  t.is(res.json.properties['harbor.scanner-adapter/vulnerability-database-updated-at'], new Date(latest!.at).toISOString());
  t.is(res.json.properties['harbor.scanner-adapter/registry-authorization-type'], 'Basic');
  const v11 = await call(t, 'GET', '/metadata', { headers: { accept: 'application/vnd.scanner.adapter.metadata+json; version=1.1' } });
  t.is(v11.headers.get('content-type'), 'application/vnd.scanner.adapter.metadata+json; version=1.1');
});

maybe(`the adapter's own auth: no key is a 401 in the spec's error shape; the key as a bearer token works${note}`, async (t) => {
  assertError(t, await call(t, 'GET', '/metadata', { headers: { 'x-scanneradapter-api-key': '' } }), 401);
  assertError(t, await call(t, 'GET', '/metadata', { headers: { 'x-scanneradapter-api-key': 'wrong-key-0123456789' } }), 401);
  t.is((await call(t, 'GET', '/metadata', { headers: { 'x-scanneradapter-api-key': '', authorization: `Bearer ${API_KEY}` } })).status, 200);
});

maybe(`Harbor's flow with a robot account (Basic): 202 {id} → 302 Refresh-After → 200 report in the 1.1 format${note}`, async (t) => {
  const { app } = t.context.images;
  const started = performance.now();
  const accepted = await call(t, 'POST', '/scan', { body: scanRequest(t, 'library/app', app.digest, basic(ROBOT)) });
  t.log(`POST /scan answered in ${(performance.now() - started).toFixed(1)} ms`);
  t.is(accepted.status, 202, accepted.text);
  t.is(accepted.headers.get('content-type'), 'application/vnd.scanner.adapter.scan.response+json; version=1.0');
  t.deepEqual(t.context.spec.check('#/components/schemas/ScanResponse', accepted.json), []);
  const { id } = accepted.json as { id: string };

  const res = await pollReport(t, id, REPORT_11);
  t.log(`scan to report (pull with the robot's token, 2 layers, match), polled every 100 ms: ${(performance.now() - started).toFixed(0)} ms`);
  t.is(res.status, 200, res.text);
  t.is(res.headers.get('content-type'), REPORT_11);
  t.deepEqual(t.context.spec.check('#/components/schemas/HarborVulnerabilityReport', res.json), []);
  t.like(res.json, {
    artifact: { repository: 'library/app', digest: app.digest, mime_type: 'application/vnd.oci.image.manifest.v1+json' },
    scanner: { name: 'Lookout', vendor: 'Lookout', version: '0.1.0' },
    severity: 'High',
  });
  const items = res.json.vulnerabilities as any[];
  t.deepEqual(items.map((v) => `${v.package} ${v.version} ${v.id}`).sort(), [
    'atomicparsley 20210114.184825.1dbe1be-2 CVE-2021-37231',
    'atomicparsley 20210114.184825.1dbe1be-2 CVE-2021-37232',
    'libsope1 5.8.0-1 CVE-2025-53603',
  ]);
  t.like(items.find((v) => v.id === 'CVE-2025-53603'), {
    fix_version: '5.8.0-1+deb12u1',
    severity: 'High',
    links: ['https://security-tracker.debian.org/tracker/CVE-2025-53603'],
    preferred_cvss: { score_v3: 7.5, vector_v3: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H' },
    vendor_attributes: { state: 'fixed', CVSS: { nvd: { V3Score: 7.5, V3Vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H' } } },
  });

  // The robot's credentials went to the registry's token service, for a pull of that repository only.
  const robotAsks = t.context.tokens.requests.filter((r) => r.user === ROBOT.username);
  t.true(robotAsks.length >= 1);
  t.true(robotAsks.every((r) => r.scopes.every((s) => s === 'repository:library/app:pull')));
  const registryId = Number((await t.context.db.knex('registries').where({ name: 'harbor' }).first('id')).id);
  const repositoryId = await t.context.services.images.repositoryId(registryId, 'library/app');
  t.is(await t.context.services.images.currentTag(repositoryId, 'v1'), app.digest, 'the artifact is recorded in its repository with its tag');

  const harbor = await call(t, 'GET', `/scan/${id}/report`, { headers: { accept: REPORT_HARBOR } });
  t.is(harbor.status, 200);
  t.is(harbor.headers.get('content-type'), REPORT_HARBOR);
  t.deepEqual(harbor.json.vulnerabilities, res.json.vulnerabilities);
});

maybe(`SBOM reports: SPDX and CycloneDX of the scanned image; no sbom_media_type is 400, the raw report 501${note}`, async (t) => {
  const { app } = t.context.images;
  const { id } = (await call(t, 'POST', '/scan', { body: scanRequest(t, 'library/app', app.digest, basic(ROBOT)) })).json as { id: string };
  const spdx = await pollReport(t, id, SBOM, '?sbom_media_type=application/spdx%2Bjson');
  t.is(spdx.status, 200, spdx.text);
  t.is(spdx.headers.get('content-type'), SBOM);
  t.deepEqual(t.context.spec.check('#/components/schemas/HarborSbomReport', spdx.json), []);
  t.is(spdx.json.media_type, 'application/spdx+json');
  t.is(spdx.json.sbom.spdxVersion, 'SPDX-2.3');
  const sope = (spdx.json.sbom.packages as any[]).find((p) => p.name === 'libsope1');
  t.like(sope, { versionInfo: '5.8.0-1', externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl' }] });
  t.regex(sope.externalRefs[0].referenceLocator, /^pkg:deb\/debian\/libsope1@5\.8\.0-1/);
  t.true((spdx.json.sbom.relationships as any[]).some((r) => r.relationshipType === 'CONTAINS' && r.relatedSpdxElement === sope.SPDXID));

  const cdx = await call(t, 'GET', `/scan/${id}/report?sbom_media_type=application/vnd.cyclonedx%2Bjson`, { headers: { accept: SBOM } });
  t.is(cdx.status, 200);
  t.like(cdx.json, { media_type: 'application/vnd.cyclonedx+json', sbom: { bomFormat: 'CycloneDX', specVersion: '1.6' } });
  t.deepEqual((cdx.json.sbom.components as any[]).map((c) => c.name).sort(), ['atomicparsley', 'curl', 'debian', 'libsope1', 'requests']);

  assertError(t, await call(t, 'GET', `/scan/${id}/report`, { headers: { accept: SBOM } }), 400, /sbom_media_type/);
  assertError(t, await call(t, 'GET', `/scan/${id}/report`, { headers: { accept: 'application/vnd.scanner.adapter.vuln.report.raw' } }), 501);
});

maybe(`a bearer token Harbor fetched for the repository is used as is${note}`, async (t) => {
  const { other } = t.context.images;
  const before = t.context.tokens.requests.length;
  const token = await t.context.tokens.mint(ROBOT.username, [{ type: 'repository', name: 'library/other', actions: ['pull'] }], 300);
  const { id } = (await call(t, 'POST', '/scan', { body: scanRequest(t, 'library/other', other.digest, `Bearer ${token}`) })).json as { id: string };
  const res = await pollReport(t, id, REPORT_11);
  t.is(res.status, 200, res.text);
  t.is(res.json.artifact.digest, other.digest);
  t.is(res.json.vulnerabilities.length, 3);
  t.is(t.context.tokens.requests.length, before, 'no token was requested: the given one was enough');
});

maybe(`failures: an artifact the registry does not have, or credentials it refuses, end in 500 with the reason${note}`, async (t) => {
  const missing = `sha256:${createHash('sha256').update('no such manifest').digest('hex')}`;
  const a = (await call(t, 'POST', '/scan', { body: scanRequest(t, 'library/app', missing, basic(ROBOT)) })).json.id as string;
  assertError(t, await pollReport(t, a, REPORT_11), 500, /404|not found/i);
  const b = (await call(t, 'POST', '/scan', { body: scanRequest(t, 'library/app', t.context.images.app.digest, basic({ username: ROBOT.username, password: 'wrong' })) })).json.id as string;
  assertError(t, await pollReport(t, b, REPORT_11), 500, /401|unauthori[sz]ed|credentials/i);
});

maybe(`report of a queued scan is 302 with Refresh-After; one whose process went silent is lost (404, Harbor re-submits); unknown ids 404${note}`, async (t) => {
  const store = new PgHarborScanStore(t.context.db.knex);
  const id = await store.create({ registry: 'harbor', repository: 'library/app', digest: t.context.images.app.digest, tag: null, mimeType: null, capabilities: [] });
  const pending = await call(t, 'GET', `/scan/${id}/report`, { headers: { accept: REPORT_11 } });
  t.is(pending.status, 302);
  t.is(pending.headers.get('refresh-after'), '5');
  t.is(pending.text, '');
  await t.context.db.knex('harbor_scans').where({ id }).update({ heartbeat_at: t.context.db.knex.raw("now() - interval '1 hour'") });
  assertError(t, await call(t, 'GET', `/scan/${id}/report`, { headers: { accept: REPORT_11 } }), 404);
  t.is((await store.get(id))?.status, 'lost');
  assertError(t, await call(t, 'GET', '/scan/3fa85f64-5717-4562-b3fc-2c963f66afa6/report', { headers: { accept: REPORT_11 } }), 404);
  assertError(t, await call(t, 'GET', '/scan/not-a-uuid/report', { headers: { accept: REPORT_11 } }), 404);
});

maybe(`bad scan requests: bad JSON or a wrong JSON type 400, a missing or invalid field 422, an unconfigured registry 422, an unknown capability 501${note}`, async (t) => {
  const good = scanRequest(t, 'library/app', t.context.images.app.digest, basic(ROBOT));
  assertError(t, await call(t, 'POST', '/scan', { body: '{"registry": ' }), 400);
  assertError(t, await call(t, 'POST', '/scan', { body: { ...good, artifact: { ...good.artifact, digest: 42 } } }), 400, /artifact\.digest/);
  assertError(t, await call(t, 'POST', '/scan', { body: { ...good, artifact: { ...good.artifact, digest: undefined } } }), 422, /missing artifact\.digest/);
  assertError(t, await call(t, 'POST', '/scan', { body: { ...good, artifact: { ...good.artifact, digest: 'sha256:xyz' } } }), 422, /invalid artifact\.digest/);
  assertError(t, await call(t, 'POST', '/scan', { body: { ...good, artifact: { ...good.artifact, repository: 'Not/Valid' } } }), 422, /artifact\.repository/);
  assertError(t, await call(t, 'POST', '/scan', { body: { ...good, registry: { url: 'http://127.0.0.1:1', authorization: basic(ROBOT) } } }), 422, /not a configured registry/);
  assertError(t, await call(t, 'POST', '/scan', { body: { ...good, registry: { ...good.registry, authorization: 'Token abc' } } }), 422, /authorization/);
  assertError(t, await call(t, 'POST', '/scan', { body: { ...good, artifact: { ...good.artifact, mime_type: 'application/vnd.cncf.helm.config.v1+json' } } }), 422, /mime_type/);
  assertError(t, await call(t, 'POST', '/scan', { body: { ...good, enabled_capabilities: [{ type: 'malware' }] } }), 501);
  assertError(t, await call(t, 'POST', '/scan', { body: { ...good, enabled_capabilities: [{ type: 'vulnerability', produces_mime_types: ['application/vnd.scanner.adapter.vuln.report.raw'] }] } }), 501);
  t.is(await t.context.db.knex('harbor_scans').where({ digest: 'sha256:xyz' }).first(), undefined);
});

maybe(`stopping: a scan still waiting is marked lost at once (Harbor re-submits it), and nothing is accepted after${note}`, async (t) => {
  const { services, db } = t.context;
  const adapter = new HarborAdapter({
    store: new PgHarborScanStore(db.knex),
    images: services.images,
    indexer: services.indexer,
    reports: services.reports,
    registries: services.registries,
    registryConfigs: [registryConfig('harbor', t.context.registry.url)],
    feeds: { latestRuns: async () => [] },
    scanner: { name: 'Lookout', vendor: 'Lookout', version: '0.1.0' },
    databaseUrl: db.url,
    logger: createLogger('silent'),
    limits: { scanConcurrency: 1 },
  });
  const request = parseHarborScanRequest(scanRequest(t, 'library/other', t.context.images.other.digest, basic(ROBOT)));
  const first = await adapter.accept(request);
  const second = await adapter.accept(request);
  await adapter.close(10_000);
  const store = new PgHarborScanStore(db.knex);
  t.is((await store.get(second))?.status, 'lost');
  t.is((await store.get(first))?.status, 'done', 'the running scan was let finish');
  await t.throwsAsync(adapter.accept(request), { message: /shutting down/ });
});
