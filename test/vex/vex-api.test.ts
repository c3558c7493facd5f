import anyTest, { type TestFn } from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { alpineAdvisory, alpineLayerFiles, api, eventually, indexImage, startOperatorLookout, type OperatorHarness } from './operator-harness.ts';

// VEX documents of each format through the API, against two real indexed images (same packages,
// different digests, different repositories) whose findings come from operator advisories.

interface Context {
  h: OperatorHarness;
  /** In team/app. */
  app: { manifestId: number; digest: string };
  /** In other/tool. */
  tool: { manifestId: number; digest: string };
}

const test = anyTest as TestFn<Context>;
const own = (name: string) => readFileSync(fileURLToPath(new URL(`../fixtures/vex/${name}`, import.meta.url)), 'utf8');

const PACKAGES: Array<[string, string, string]> = [
  ['musl', '1.2.4-r2', 'musl'],
  ['busybox', '1.36.1-r15', 'busybox'],
  ['libcrypto3', '3.1.4-r0', 'openssl'],
  ['libssl3', '3.1.4-r0', 'openssl'],
];

test.before(async (t) => {
  const h = await startOperatorLookout('vex_api');
  for (const [id, origin, fixed] of [
    ['CVE-2026-1001', 'openssl', '3.1.5-r0'],
    ['CVE-2026-1002', 'busybox', '1.36.1-r20'],
    ['CVE-2026-1003', 'openssl', '3.1.6-r0'],
    ['CVE-2026-1004', 'busybox', '1.36.1-r21'],
  ] as const) {
    const res = await api(h, 'POST', '/api/v1/advisories', alpineAdvisory(id, origin, fixed));
    if (res.status !== 201) throw new Error(`advisory ${id}: ${res.status} ${res.text}`);
  }
  const layer = await h.layout.addLayer(alpineLayerFiles(PACKAGES));
  const other = await h.layout.addLayer([{ path: 'srv/tool.txt', content: 'a tool\n' }]);
  const app = await indexImage(h, [layer], { repository: 'team/app', tag: 'v1' });
  const tool = await indexImage(h, [layer, other], { repository: 'other/tool', tag: 'v1' });
  t.context = { h, app, tool };
});

test.after.always(async (t) => {
  await t.context.h?.close();
});

type Finding = { vulnerability: string; package: { name: string }; state: string; source: { updater: string }; suppression?: { by: string; id: string; status: string | null; justification: string | null; reason: string | null } };

/** The image's status document (`?suppressed=include` when asked): findings and suppressed findings as `vuln package` lines. */
async function status(t: { context: Context }, digest: string, include = false) {
  const res = await api(t.context.h, 'GET', `/api/v1/images/${digest}${include ? '?suppressed=include' : ''}`);
  if (res.status !== 200) throw new Error(`status ${res.status}: ${res.text}`);
  const report = res.json.report as { findings: Finding[]; suppressedFindings?: Finding[]; summary: { total: number; suppressed: Record<string, { findings: number | null; packages: number }> } };
  const line = (f: Finding) => `${f.vulnerability} ${f.package.name}`;
  return { etag: res.headers.get('etag'), report, findings: report.findings.map(line).sort(), suppressed: (report.suppressedFindings ?? []).map(line).sort() };
}

/** The status once its suppressed findings are `expected` (the API may serve the previous document for a moment). */
async function settled(t: { context: Context }, digest: string, expected: string[], include = true) {
  return eventually(() => status(t, digest, include), (s) => JSON.stringify(include ? s.suppressed : ALL.filter((f) => !s.findings.includes(f)).sort()) === JSON.stringify([...expected].sort()));
}

const ALL = [
  'CVE-2026-1001 libcrypto3', 'CVE-2026-1001 libssl3', 'CVE-2026-1002 busybox', 'CVE-2026-1003 libcrypto3', 'CVE-2026-1003 libssl3', 'CVE-2026-1004 busybox',
];

test.serial('before any VEX: every finding, from the custom source, nothing suppressed', async (t) => {
  for (const image of [t.context.app, t.context.tool]) {
    const s = await status(t, image.digest, true);
    t.deepEqual(s.findings, ALL);
    t.deepEqual(s.suppressed, []);
    t.true(s.report.findings.every((f) => f.source.updater === 'custom'));
    t.is(s.report.summary.total, 6);
  }
});

test.serial('OpenVEX: not_affected suppresses exactly the named package version (with why); under_investigation sets the state', async (t) => {
  const before = await status(t, t.context.app.digest);
  const res = await api(t.context.h, 'POST', '/api/v1/vex', undefined, { raw: own('openvex-libssl3.json') });
  t.is(res.status, 201, res.text);
  t.like(res.json, { document: { format: 'openvex', statementCount: 2, scope: { kind: 'global' }, author: 'Example Platform Team <platform@example.test>' }, replaced: null, skippedCount: 0 });
  for (const image of [t.context.app, t.context.tool]) {
    const s = await settled(t, image.digest, ['CVE-2026-1001 libssl3'], false);
    t.deepEqual(s.findings, ALL.filter((f) => f !== 'CVE-2026-1001 libssl3'), 'libcrypto3 is another package: not named, not suppressed');
    t.deepEqual(s.suppressed, [], 'suppressed findings are left out unless asked');
    t.is(s.report.summary.total, 5);
    t.deepEqual(s.report.summary.suppressed.vex, { packages: 1, findings: 1 });
    t.is(s.report.findings.find((f) => f.vulnerability === 'CVE-2026-1004')?.state, 'under_investigation');
    const shown = await status(t, image.digest, true);
    t.deepEqual(shown.suppressed, ['CVE-2026-1001 libssl3']);
    t.like(shown.report.suppressedFindings![0], { suppression: { by: 'vex', id: res.json.document.id, status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path', reason: 'Our images never call the affected TLS renegotiation path.' } });
    t.not(shown.etag, s.etag, 'the validator tells the two documents apart');
  }
  t.not((await status(t, t.context.app.digest)).etag, before.etag, 'the report changed');
});

test.serial('CycloneDX VEX scoped to one image: resolved suppresses the finding there only', async (t) => {
  const res = await api(t.context.h, 'POST', `/api/v1/vex?image=${t.context.tool.digest}`, undefined, { raw: own('cyclonedx-busybox.json') });
  t.is(res.status, 201, res.text);
  t.like(res.json.document, { format: 'cyclonedx', scope: { kind: 'image', digest: t.context.tool.digest } });
  t.deepEqual((await settled(t, t.context.tool.digest, ['CVE-2026-1001 libssl3', 'CVE-2026-1002 busybox'])).suppressed, ['CVE-2026-1001 libssl3', 'CVE-2026-1002 busybox']);
  t.like((await status(t, t.context.tool.digest, true)).report.suppressedFindings!.find((f) => f.vulnerability === 'CVE-2026-1002'), { suppression: { status: 'fixed', reason: 'Patched in our busybox build (backport of the upstream fix).' } });
  t.deepEqual((await status(t, t.context.app.digest, true)).suppressed, ['CVE-2026-1001 libssl3'], 'the other image keeps it');
});

test.serial('CSAF VEX scoped to a repository glob: a versionless product suppresses it in team/* images only', async (t) => {
  const res = await api(t.context.h, 'POST', '/api/v1/vex?repository=team/*', undefined, { raw: own('csaf-openssl.json') });
  t.is(res.status, 201, res.text);
  t.like(res.json, { document: { format: 'csaf', statementCount: 1, scope: { kind: 'repository', pattern: 'team/*' } }, skippedCount: 1 });
  t.deepEqual((await settled(t, t.context.app.digest, ['CVE-2026-1001 libssl3', 'CVE-2026-1003 libssl3'])).suppressed, ['CVE-2026-1001 libssl3', 'CVE-2026-1003 libssl3']);
  t.deepEqual((await status(t, t.context.tool.digest, true)).suppressed, ['CVE-2026-1001 libssl3', 'CVE-2026-1002 busybox']);
  // Importing the same document again replaces it, it does not add a second.
  const again = await api(t.context.h, 'POST', '/api/v1/vex?repository=team/*', undefined, { raw: own('csaf-openssl.json') });
  t.is(again.status, 201);
  t.is(again.json.replaced, res.json.document.id);
  t.is((await api(t.context.h, 'GET', '/api/v1/vex')).json.items.length, 3);
});

test.serial('malformed documents are rejected with the position of the problem and change nothing', async (t) => {
  // Settle first: the first read after a change remakes the report (and so moves the validator once more).
  await Promise.all([status(t, t.context.app.digest, true), status(t, t.context.tool.digest, true)]);
  await new Promise((r) => setTimeout(r, 300));
  const before = await Promise.all([status(t, t.context.app.digest, true), status(t, t.context.tool.digest, true)]);
  const documents = (await t.context.h.db.knex('vex_documents').count<{ n: string }[]>('* as n'))[0]!.n;
  const statements = (await t.context.h.db.knex('vex_statements').count<{ n: string }[]>('* as n'))[0]!.n;
  const openvex = JSON.parse(own('openvex-libssl3.json'));
  const cdx = JSON.parse(own('cyclonedx-busybox.json'));
  const csaf = JSON.parse(own('csaf-openssl.json'));
  const broken = own('openvex-libssl3.json').replace('"not_affected",', '"not_affected"');
  const line = broken.split('\n').findIndex((l) => l.includes('"justification"')) + 1;
  const cases: Array<[string, string, RegExp]> = [
    ['', broken, new RegExp(`^line ${line} column 7: not valid JSON: expected "," or "}"`)],
    ['', JSON.stringify({ ...openvex, '@id': 'urn:other', statements: [openvex.statements[0], { ...openvex.statements[1], status: 'unknown' }] }), /^\/statements\/1\/status: unknown status "unknown"/],
    ['', JSON.stringify({ ...cdx, serialNumber: 'urn:uuid:00000000-0000-0000-0000-000000000000', vulnerabilities: [cdx.vulnerabilities[0], { id: 'CVE-2026-1003', affects: [{ ref: 'busybox' }] }] }), /^\/vulnerabilities\/1: analysis is required/],
    ['', JSON.stringify({ ...csaf, vulnerabilities: [{ ...csaf.vulnerabilities[0], product_status: { known_not_affected: ['libssl3', 'libssl4'] } }] }), /^\/vulnerabilities\/0\/product_status\/known_not_affected\/1: product "libssl4" is not a product of the tree/],
    ['?format=cyclonedx', own('openvex-libssl3.json'), /^\/bomFormat: bomFormat must be "CycloneDX"/],
    ['?image=sha256:nope', own('openvex-libssl3.json'), /image must be a sha256\/sha512 digest/],
    ['?repository=Team/App', own('openvex-libssl3.json'), /repository must be a repository name or glob/],
  ];
  for (const [query, body, message] of cases) {
    const res = await api(t.context.h, 'POST', `/api/v1/vex${query}`, undefined, { raw: body });
    t.is(res.status, 400, `${query} ${res.text}`);
    t.regex(res.json.message, message);
    t.true(['invalid_vex', 'invalid_scope'].includes(res.json.code), res.json.code);
  }
  const huge = await api(t.context.h, 'POST', '/api/v1/vex', undefined, { raw: JSON.stringify({ ...openvex, pad: 'x'.repeat(1_100_000) }) });
  t.is(huge.status, 413);
  t.is((await t.context.h.db.knex('vex_documents').count<{ n: string }[]>('* as n'))[0]!.n, documents);
  t.is((await t.context.h.db.knex('vex_statements').count<{ n: string }[]>('* as n'))[0]!.n, statements);
  await new Promise((r) => setTimeout(r, 300));
  const after = await Promise.all([status(t, t.context.app.digest, true), status(t, t.context.tool.digest, true)]);
  t.deepEqual(after.map((s) => s.etag), before.map((s) => s.etag), 'no report changed');
  const stored = await t.context.h.db.knex('reports').whereIn('manifest_id', [t.context.app.manifestId, t.context.tool.manifestId]).where('generation', '>=', 0).count<{ n: string }[]>('* as n');
  t.is(Number(stored[0]!.n), 2, 'no cached report was made stale');
});

test.serial('VEX exports carry the decisions: OpenVEX and CycloneDX VEX of a report, imported back, decide the same', async (t) => {
  const { h, app } = t.context;
  const openvex = await api(h, 'GET', `/api/v1/images/${app.digest}?format=openvex`);
  t.is(openvex.status, 200);
  const statements = openvex.json.statements as Array<{ vulnerability: { name: string }; status: string; justification?: string; impact_statement?: string; action_statement?: string; products: Array<{ '@id': string; subcomponents: Array<{ '@id': string }> }> }>;
  const of = (id: string, pkg: string) => statements.find((s) => s.vulnerability.name === id && s.products[0]!.subcomponents[0]!['@id'].includes(`/${pkg}@`));
  t.like(of('CVE-2026-1001', 'libssl3'), { status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path' });
  t.like(of('CVE-2026-1003', 'libssl3'), { status: 'not_affected', justification: 'vulnerable_code_not_present' });
  t.like(of('CVE-2026-1001', 'libcrypto3'), { status: 'affected', action_statement: 'Upgrade libcrypto3 to 3.1.5-r0 or later.' });
  t.is(of('CVE-2026-1004', 'busybox')?.status, 'under_investigation');
  t.true(statements.every((s) => s.products[0]!['@id'].startsWith('pkg:oci/app@sha256%3A') && s.products[0]!['@id'].includes(app.digest.slice(7))));
  t.is(of('CVE-2026-1001', 'libssl3')?.products[0]!.subcomponents[0]!['@id'], 'pkg:apk/alpine/libssl3@3.1.4-r0?arch=x86_64&distro=alpine-3.19.1');

  const cdx = await api(h, 'GET', `/api/v1/images/${app.digest}?format=cyclonedx-vex`);
  t.is(cdx.status, 200);
  t.is(cdx.headers.get('content-type'), 'application/vnd.cyclonedx+json');
  const byId = (id: string, pkg: string) =>
    (cdx.json.vulnerabilities as Array<{ id: string; analysis: { state: string; justification?: string }; affects: Array<{ ref: string }> }>).find((v) => v.id === id && (cdx.json.components as Array<{ 'bom-ref': string; name: string }>).find((c) => c['bom-ref'] === v.affects[0]!.ref)?.name === pkg);
  t.like(byId('CVE-2026-1001', 'libssl3'), { analysis: { state: 'not_affected', justification: 'code_not_reachable' } });
  t.like(byId('CVE-2026-1001', 'libcrypto3'), { analysis: { state: 'exploitable', response: ['update'] } });

  // Drop the original documents, import the exports: the same findings are suppressed again, in this image only.
  const expected = await status(t, app.digest, true);
  for (const d of (await api(h, 'GET', '/api/v1/vex')).json.items) t.is((await api(h, 'DELETE', `/api/v1/vex/${d.id}`)).status, 204);
  t.deepEqual((await settled(t, app.digest, [])).suppressed, [], 'the decisions are gone with their documents');
  t.deepEqual((await settled(t, t.context.tool.digest, [])).suppressed, []);
  const reimport = await api(h, 'POST', '/api/v1/vex', undefined, { raw: openvex.text });
  t.is(reimport.status, 201);
  t.like(reimport.json, { document: { format: 'openvex', author: 'Lookout', statementCount: statements.length }, skippedCount: 0 });
  t.deepEqual((await settled(t, app.digest, expected.suppressed)).suppressed, expected.suppressed);
  t.deepEqual((await status(t, t.context.tool.digest, true)).suppressed, [], 'the export names its image: the other image is not touched');
  for (const d of (await api(h, 'GET', '/api/v1/vex')).json.items) t.is((await api(h, 'DELETE', `/api/v1/vex/${d.id}`)).status, 204);
  t.deepEqual((await settled(t, app.digest, [])).suppressed, []);
  t.is((await api(h, 'POST', '/api/v1/vex', undefined, { raw: cdx.text })).status, 201);
  t.deepEqual((await settled(t, app.digest, expected.suppressed)).suppressed, expected.suppressed);
  t.deepEqual((await status(t, t.context.tool.digest, true)).suppressed, []);
});

test.serial('only callers with full access may read or write VEX documents', async (t) => {
  t.is((await api(t.context.h, 'POST', '/api/v1/vex', undefined, { raw: own('openvex-libssl3.json'), key: null })).status, 401);
  t.is((await api(t.context.h, 'GET', '/api/v1/vex', undefined, { key: 'wrong-key-0123456789' })).status, 401);
  t.is((await api(t.context.h, 'GET', '/api/v1/vex/999999')).status, 404);
  t.is((await api(t.context.h, 'DELETE', '/api/v1/vex/not-a-number')).status, 404);
  t.is((await api(t.context.h, 'GET', `/api/v1/images/${t.context.app.digest}?suppressed=maybe`)).status, 400);
});
