import test from 'ava';
import { buildRemediation } from '../../src/remediation/build-remediation.ts';
import Router from '@koa/router';
import { etagMatches, type ClairIndexer } from '../../src/compat/clair-indexer.ts';
import { clairIndexReport, clairVulnerabilityReport } from '../../src/compat/clair-reports.ts';
import type { StoredDistribution } from '../../src/compat/clair-store.ts';
import { HarborError } from '../../src/compat/harbor-error.ts';
import { harborVulnerabilityReport } from '../../src/compat/harbor-report.ts';
import { packageSbom } from '../../src/compat/package-sbom.ts';
import { parseClairManifest } from '../../src/compat/parse-clair-manifest.ts';
import { normalizeMediaType, parseHarborScanRequest } from '../../src/compat/parse-harbor-scan-request.ts';
import { registryForUrl } from '../../src/compat/registry-for-url.ts';
import { parseRegistryAuthorization, withCredentials } from '../../src/compat/registry-credentials.ts';
import { COMPAT_LIMITS } from '../../src/compat/compat-limits.ts';
import type { Finding } from '../../src/matcher/finding.ts';
import { REPORT_SCHEMA_VERSION, summarize, type ImageReport, type ReportPackage } from '../../src/matcher/image-report.ts';
import { REGISTRY_DEFAULTS, type RegistryConfig } from '../../src/registry/registry-config.ts';
import type { ClairMatcher } from '../../src/compat/clair-matcher.ts';
import type { ClairNotifier } from '../../src/compat/clair-notifier.ts';
import type { HarborAdapter } from '../../src/compat/harbor-adapter.ts';
import type { AuthHandle } from '../../src/http/auth/auth-handle.ts';
import { clairRoutes } from '../../src/http/routes/clair-routes.ts';
import { harborRoutes } from '../../src/http/routes/harbor-routes.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { clairTypesDir, HAVE_REFERENCE, NO_REFERENCE, serveRouters } from './compat-harness.ts';
import { SchemaCheck } from './schema-check.ts';

const D = (c: string): `sha256:${string}` => `sha256:${c.repeat(64)}`;
const withReference = HAVE_REFERENCE ? test : test.skip;
const note = HAVE_REFERENCE ? '' : NO_REFERENCE;

function registry(name: string, url: string, extra: Partial<RegistryConfig> = {}): RegistryConfig {
  return { name, url, ...REGISTRY_DEFAULTS, ...extra };
}

test('registryForUrl: a configured registry by origin, or by alias with its scheme; never with credentials', (t) => {
  const configs = [registry('a', 'https://registry.example.test'), registry('b', 'http://127.0.0.1:5000', { aliases: ['localhost:5000'] })];
  t.is(registryForUrl(configs, new URL('https://registry.example.test/v2/x/blobs/y'))?.name, 'a');
  t.is(registryForUrl(configs, new URL('https://registry.example.test:443/v2/'))?.name, 'a', 'default port is the same origin');
  t.is(registryForUrl(configs, new URL('http://registry.example.test/v2/')), null, 'another scheme is another origin');
  t.is(registryForUrl(configs, new URL('https://registry.example.test.evil.test/v2/')), null);
  t.is(registryForUrl(configs, new URL('http://localhost:5000/v2/'))?.name, 'b');
  t.is(registryForUrl(configs, new URL('https://localhost:5000/v2/')), null, 'an alias takes the registry URL scheme');
  t.is(registryForUrl(configs, new URL('https://user:pw@registry.example.test/v2/')), null);
  t.is(registryForUrl(configs, new URL('ftp://registry.example.test/')), null);
});

test('registry authorization: Basic robot accounts and Bearer tokens; anything else is refused; credentials replace the configured ones', (t) => {
  const robot = `Basic ${Buffer.from('robot$library+scan:s3cr:et').toString('base64')}`;
  t.deepEqual(parseRegistryAuthorization(robot), { kind: 'basic', username: 'robot$library+scan', password: 's3cr:et' });
  t.deepEqual(parseRegistryAuthorization('Bearer eyJhbGciOi.x.y'), { kind: 'bearer', token: 'eyJhbGciOi.x.y' });
  for (const bad of ['Token abc', 'Basic', `Basic ${Buffer.from('nocolon').toString('base64')}`, 'Basic !!!', 'Bearer a b', `Basic ${Buffer.from(':pw').toString('base64')}`]) {
    t.is(parseRegistryAuthorization(bad), null, bad);
  }
  const configured = registry('h', 'https://harbor.example.test', { username: 'lookout', password: 'pw', bearerToken: 'static' });
  const robotConfig = withCredentials(configured, { kind: 'basic', username: 'robot$x', password: 'y' });
  t.like(robotConfig, { url: 'https://harbor.example.test', username: 'robot$x', password: 'y' });
  t.false('bearerToken' in robotConfig);
  const bearer = withCredentials(configured, { kind: 'bearer', token: 't' });
  t.is(bearer.bearerToken, 't');
  t.false('username' in bearer || 'password' in bearer);
});

test('Clair manifests: hop-by-hop headers are dropped, bad header names, sizes and digests are 400s', (t) => {
  const manifest = parseClairManifest(
    { hash: D('a'), layers: [{ hash: `sha512:${'b'.repeat(128)}`, uri: 'https://r.example.test/v2/x/blobs/y', headers: { Accept: ['application/gzip'], Host: ['evil'], Connection: ['close'] } }] },
    COMPAT_LIMITS,
  );
  t.deepEqual(manifest.layers[0]!.headers, { Accept: ['application/gzip'] });
  const layer = { hash: D('b'), uri: 'https://r.example.test/x' };
  const refused = (body: unknown, limits = COMPAT_LIMITS) => t.throws(() => parseClairManifest(body, limits), { message: /^invalid manifest/ });
  refused({ hash: D('a'), layers: [{ ...layer, headers: { 'Bad Name': ['x'] } }] });
  refused({ hash: D('a'), layers: [{ ...layer, headers: { 'X-Evil': ['a\r\nInjected: yes'] } }] });
  refused({ hash: D('a'), layers: [layer, layer] }, { ...COMPAT_LIMITS, maxLayers: 1 });
  refused({ hash: 'sha256:ABC', layers: [layer] });
  refused({ hash: D('a'), layers: [{ ...layer, hash: 'md5:abc' }] });
  refused({ hash: D('a'), layers: [{ hash: D('b') }] });
});

test('Harbor scan requests: all capabilities by default; media type parameters compared without spacing differences', (t) => {
  const request = parseHarborScanRequest({ registry: { url: 'https://h.example.test' }, artifact: { repository: 'library/app', digest: D('c'), tag: '' } });
  t.deepEqual(request.registry, { url: 'https://h.example.test', authorization: null });
  t.is(request.artifact.tag, null);
  t.deepEqual(request.capabilities.map((c) => c.type), ['vulnerability', 'sbom']);
  t.is(normalizeMediaType('application/vnd.security.vulnerability.report;version = 1.1'), 'application/vnd.security.vulnerability.report; version=1.1');
  const parsed = parseHarborScanRequest({
    registry: { url: 'https://h.example.test' },
    artifact: { repository: 'library/app', digest: D('c') },
    enabled_capabilities: [{ type: 'vulnerability', produces_mime_types: ['application/vnd.security.vulnerability.report;  version=1.1'], parameters: null }],
  });
  t.deepEqual(parsed.capabilities, [{ type: 'vulnerability', producesMimeTypes: ['application/vnd.security.vulnerability.report; version=1.1'], sbomMediaTypes: null }]);
  const status = (body: unknown) => {
    try {
      parseHarborScanRequest(body);
      return 0;
    } catch (err) {
      return (err as HarborError).status;
    }
  };
  t.is(status([]), 400);
  t.is(status({ registry: 'x' }), 400);
  t.is(status({ registry: { url: 'https://h.example.test' }, artifact: { repository: 'library/app' } }), 422);
  t.is(status({ registry: { url: 'not a url' }, artifact: { repository: 'library/app', digest: D('c') } }), 422);
});

test('If-None-Match: quoted or bare, weak, lists and *', (t) => {
  t.true(etagMatches('"abc"', 'abc'));
  t.true(etagMatches('W/"abc"', 'abc'));
  t.true(etagMatches('"x", "abc"', 'abc'));
  t.true(etagMatches('*', 'abc'));
  t.true(etagMatches('abc', 'abc'));
  t.false(etagMatches('"abcd"', 'abc'));
});

// ---------------------------------------------------------------------------------------------
// mappings, on a report written here

const LAYER = D('1');
function pkg(id: number, over: Partial<ReportPackage>): ReportPackage {
  return { id, ecosystem: 'dpkg', name: 'x', version: '1', sourceName: null, sourceVersion: null, arch: 'amd64', module: null, vendor: null, purl: null, path: 'var/lib/dpkg/status', introducedIn: LAYER, ownerPackageId: null, ...over };
}
function finding(packageId: number, p: ReportPackage, over: Partial<Finding>): Finding {
  return {
    key: `${packageId}/${over.vulnerability ?? 'CVE-2026-0001'}`,
    packageId,
    package: { name: p.name, version: p.version, ecosystem: p.ecosystem, sourceName: p.sourceName, sourceVersion: p.sourceVersion },
    vulnerability: 'CVE-2026-0001',
    aliases: [],
    state: 'fixed',
    stateReason: null,
    fixedVersion: '2',
    vendorSeverity: 'medium',
    severity: 'High',
    severitySource: 'vendor',
    cvss: { v2: null, v3: null, v4: null },
    epss: null,
    kev: null,
    description: 'a flaw',
    links: ['https://tracker.example.test/CVE-2026-0001', 'not a link'],
    publishedAt: '2026-01-02T03:04:05.000Z',
    source: { updater: 'debian', recordId: 77, distribution: 'debian:bookworm' },
    explain: [
      { recordId: 77, updater: 'debian', vulnerability: 'CVE-2026-0001', verdict: 'affected', matchedBy: 'source', installedVersion: '1', affectedVersions: '< 2', fixedVersion: '2', comparison: -1, state: 'fixed', stateReason: null, detail: 'affected' },
    ],
    ...over,
  };
}

function sampleReport(): ImageReport {
  const libA = pkg(1, { name: 'liba1', version: '1.0-1', sourceName: 'liba', sourceVersion: '1.0-1' });
  const libAdev = pkg(2, { name: 'liba-dev', version: '1.0-1', sourceName: 'liba', sourceVersion: '1.0-1' });
  const libAagain = { ...libA, path: 'var/lib/dpkg/status.d/liba1' };
  const requests = pkg(3, { ecosystem: 'pypi', name: 'requests', version: '2.0.0', arch: null, path: 'usr/lib/python3/site-packages/requests-2.0.0.dist-info/METADATA', purl: 'pkg:pypi/requests@2.0.0' });
  const findings = [
    finding(1, libA, {}),
    finding(2, libAdev, { key: '2/CVE-2026-0001', cvss: { v2: null, v3: { version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', score: 9.8, source: 'nvd' }, v4: null } }),
    finding(3, requests, { key: '3/GHSA-x', vulnerability: 'GHSA-xxxx-yyyy-zzzz', severity: 'Medium', fixedVersion: null, source: { updater: 'osv-pypi', recordId: 'osv-9', distribution: null }, explain: [] }),
    finding(9, libA, { key: '9/CVE-2026-0009', vulnerability: 'CVE-2026-0009', source: { updater: 'debian', recordId: 78, distribution: 'debian:bookworm' } }),
  ];
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'image',
    image: { digest: D('f'), mediaType: 'application/vnd.oci.image.manifest.v1+json', reference: null, platform: { os: 'linux', architecture: 'amd64' }, distribution: { did: 'debian', name: 'Debian GNU/Linux', versionId: '12', versionCodename: 'bookworm', prettyName: 'Debian 12', key: 'debian:bookworm' }, layers: [LAYER] },
    generatedAt: '2026-02-01T00:00:00.000Z',
    vulnerabilityDatabase: { generation: 3 },
    matcher: { name: 'lookout-matcher', version: '1' },
    packages: [libA, libAagain, libAdev, requests],
    findings,
    summary: summarize(findings, 4),
    remediation: buildRemediation({ findings, packages: [libA, libAagain, libAdev, requests], layers: [LAYER], base: null }),
    notes: [],
  };
}

const DIST: StoredDistribution = { id: 5, did: 'debian', name: 'Debian GNU/Linux', version: '12 (bookworm)', versionId: '12', versionCodename: 'bookworm', prettyName: 'Debian 12', cpe: 'not a cpe', arch: null };

withReference(`Clair reports from a report: one vulnerability per advisory record shared by the packages of a source, repositories for language packages, every place a package was found${note}`, (t) => {
  const schemas = new SchemaCheck({ dir: clairTypesDir() });
  const report = clairVulnerabilityReport(sampleReport(), DIST);
  t.deepEqual(schemas.check('vulnerability_report.schema.json', report), []);
  t.deepEqual(Object.keys(report.vulnerabilities).sort(), ['77', 'osv-9']);
  t.deepEqual(report.package_vulnerabilities, { '1': ['77'], '2': ['77'], '3': ['osv-9'] }, 'a finding of a package not in the report is left out');
  t.like(report.vulnerabilities['77'], { package: { name: 'liba', kind: 'SOURCE' }, distribution: { id: '5', did: 'debian' }, links: 'https://tracker.example.test/CVE-2026-0001 not a link', issued: '2026-01-02T03:04:05.000Z' });
  t.like(report.vulnerabilities['osv-9'], { package: { name: 'requests', kind: 'BINARY' }, repository: { id: 'repo:pypi', name: 'pypi' }, fixed_in_version: '' });
  t.is(report.vulnerabilities['osv-9']!.distribution, undefined);
  t.deepEqual(report.environments['1']!.map((e) => e.package_db), ['var/lib/dpkg/status', 'var/lib/dpkg/status.d/liba1']);
  t.deepEqual(report.distributions['5'], { id: '5', did: 'debian', name: 'Debian GNU/Linux', version: '12 (bookworm)', version_code_name: 'bookworm', version_id: '12', arch: 'amd64', pretty_name: 'Debian 12' }, 'a CPE that is not one is left out');
  t.deepEqual(Object.values(report.enrichments), [[{ '77': [{ version: '3.1', vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', baseScore: 9.8, baseSeverity: 'CRITICAL' }] }]], 'scores of any finding of the record');

  const indexing = clairIndexReport({ digest: D('f'), state: 'ScanLayers', error: null, report: null, distribution: null });
  t.deepEqual(schemas.check('index_report.schema.json', indexing), []);
  t.like(indexing, { state: 'ScanLayers', success: false, err: '', packages: {} });
});

withReference(`the schema checker holds what the schemas say: lower-case kinds, a package without arch_op, unknown fields and bad digests are caught${note}`, (t) => {
  const schemas = new SchemaCheck({ dir: clairTypesDir() });
  t.notDeepEqual(schemas.check('package.schema.json', { name: 'a', version: '1', kind: 'binary' }), []);
  t.notDeepEqual(schemas.check('vulnerability.schema.json', { id: '1', updater: 'u', name: 'n', normalized_severity: 'Low', package: { name: 'a', version: '' } }), []);
  t.notDeepEqual(schemas.check('vulnerability.schema.json', { id: '1', updater: 'u', name: 'n', normalized_severity: 'Low', distribution: { id: '1' }, surprise: 1 }), []);
  t.notDeepEqual(schemas.check('vulnerability.schema.json', { id: '1', updater: 'u', name: 'n', normalized_severity: 'Bad', distribution: { id: '1' } }), []);
  t.notDeepEqual(schemas.check('index_report.schema.json', { manifest_hash: 'sha256:abc', state: 'IndexFinished', success: true }), []);
  t.deepEqual(schemas.check('vulnerability.schema.json', { id: '1', updater: 'u', name: 'n', normalized_severity: 'Low', package: { name: 'a', version: '' }, arch_op: 'equals' }), []);
});

test('Harbor report: one item per vulnerability, package and version; highest severity; only http(s) links; CVSS by source', (t) => {
  const report = harborVulnerabilityReport(sampleReport(), { repository: 'library/app', digest: D('f') }, { name: 'Lookout', vendor: 'Lookout', version: '0' });
  t.is(report.severity, 'High');
  t.deepEqual(report.vulnerabilities.map((v) => `${v.package} ${v.id}`), ['liba1 CVE-2026-0001', 'liba-dev CVE-2026-0001', 'requests GHSA-xxxx-yyyy-zzzz', 'liba1 CVE-2026-0009']);
  t.deepEqual(report.vulnerabilities[0]!.links, ['https://tracker.example.test/CVE-2026-0001']);
  t.like(report.vulnerabilities[1], { preferred_cvss: { score_v3: 9.8 }, vendor_attributes: { CVSS: { nvd: { V3Score: 9.8 } }, layer: LAYER } });
  t.is(report.vulnerabilities[2]!.fix_version, '');
  const none = harborVulnerabilityReport({ ...sampleReport(), findings: [] }, { repository: 'library/app', digest: D('f') }, { name: 'L', vendor: 'L', version: '0' });
  t.is(none.severity, 'Unknown');
});

test('SBOMs: each package once; OS packages without a purl get one from the distribution', (t) => {
  const spdx = packageSbom('application/spdx+json', sampleReport(), { name: 'library/app', toolName: 'lookout', toolVersion: '0' });
  const packages = spdx.packages as Array<Record<string, any>>;
  t.deepEqual(packages.map((p) => p.name), ['library/app', 'debian', 'liba1', 'liba-dev', 'requests']);
  t.is(packages[2]!.externalRefs[0].referenceLocator, 'pkg:deb/debian/liba1@1.0-1?arch=amd64&distro=debian-12');
  t.is(packages[4]!.externalRefs[0].referenceLocator, 'pkg:pypi/requests@2.0.0');
  const again = packageSbom('application/spdx+json', sampleReport(), { name: 'library/app', toolName: 'lookout', toolVersion: '0' });
  t.is(again.documentNamespace, spdx.documentNamespace, 'same report, same document');
  const cdx = packageSbom('application/vnd.cyclonedx+json', sampleReport(), { name: 'library/app', toolName: 'lookout', toolVersion: '0' });
  t.is((cdx.components as unknown[]).length, 4);
  t.regex(String(cdx.serialNumber), /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('the Clair and Harbor routes take only service credentials: a caller who may read some repositories gets 403 in each API’s error shape', async (t) => {
  const limited: AuthHandle = {
    mode: 'registry-token',
    insecure: false,
    close: async () => undefined,
    middleware: async (ctx, next) => {
      ctx.state.access = { mode: 'registry-token', subject: 'someone', all: false, anonymous: false, lazy: false, listed: null, canRead: () => true, mayRead: async () => true, assertRead: async () => undefined, assertAuthenticated: () => undefined };
      await next();
    },
  };
  const logger = createLogger('silent');
  const served = await serveRouters([
    clairRoutes({ indexer: {} as ClairIndexer, matcher: {} as ClairMatcher, notifier: {} as ClairNotifier, auth: limited, logger }),
    harborRoutes({ adapter: {} as HarborAdapter, auth: limited, logger }),
  ]);
  t.teardown(() => served.close());
  const clair = await fetch(`${served.url}/indexer/api/v1/index_state`);
  t.is(clair.status, 403);
  t.like(await clair.json(), { code: 'forbidden' });
  const harbor = await fetch(`${served.url}/harbor/api/v1/metadata`);
  t.is(harbor.status, 403);
  t.is(harbor.headers.get('content-type'), 'application/vnd.scanner.adapter.error+json; version=1.0');
  t.regex(((await harbor.json()) as { error: { message: string } }).error.message, /service credentials/);
});

test('the Clair routes’ middleware stays on Clair’s paths when the routers are nested in one app', async (t) => {
  const refuseAll: AuthHandle = {
    mode: 'psk',
    insecure: false,
    close: async () => undefined,
    middleware: async () => {
      throw new Error('the Clair auth ran outside the Clair API');
    },
  };
  const other = new Router();
  other.get('/other/ping', (ctx) => {
    ctx.body = { ok: true };
  });
  const logger = createLogger('silent');
  const served = await serveRouters([clairRoutes({ indexer: {} as ClairIndexer, matcher: {} as ClairMatcher, notifier: {} as ClairNotifier, auth: refuseAll, logger }), other]);
  t.teardown(() => served.close());
  const res = await fetch(`${served.url}/other/ping`);
  t.is(res.status, 200);
  t.deepEqual(await res.json(), { ok: true });
  t.is((await fetch(`${served.url}/indexer/api/v1/index_state`)).status, 500, 'and it does run on them');
});
