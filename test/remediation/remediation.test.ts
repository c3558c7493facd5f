import anyTest, { type TestFn } from 'ava';
import { createReadStream, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import tar from 'tar-stream';
import { scanImage } from '../../src/cli/scan-image.ts';
import { parseSecdb } from '../../src/ecosystems/alpine/parse-secdb.ts';
import { apkVersion } from '../../src/ecosystems/apk/apk-version.ts';
import { buildDeliveryContent } from '../../src/notifier/delivery-content.ts';
import { emailUpgrades, renderEmail } from '../../src/notifier/render-email.ts';
import { imageLinks } from '../../src/notifier/notification-payload.ts';
import { buildRemediation } from '../../src/remediation/build-remediation.ts';
import { layerChainIds } from '../../src/store/layer-chain-ids.ts';
import { BACKFILL_LAYER_CHAINS } from '../../migrations/20261122004000_operator_data.ts';
import { randomDigest } from '../notifier/notifier-harness.ts';
import type { Finding } from '../../src/matcher/finding.ts';
import { runCli } from '../helpers/cli.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../helpers/fixtures.ts';
import { dockerSaveLayers } from '../helpers/layer-files.ts';
import { alpineAdvisory, alpineLayerFiles, api, indexImage, startOperatorLookout, type OperatorHarness } from '../vex/operator-harness.ts';

// Remediation advice on a real image (Alpine 3.11.5 from a `docker save` archive) with real
// Alpine secdb data: the advised versions are the feeds' fixed versions, and an image rebuilt with
// them has no fixable finding left. Then base/own layers on generated images, and the advice in
// `lookout scan` and in emails.

interface Context {
  h: OperatorHarness;
}

const test = anyTest as TestFn<Context>;
const IMAGE = 'pkgdb/images/trivy-alpine-3.11.5.docker-save.tar.gz';
/** Real Alpine v3.11 main secdb data: vulnerablecode's sample (apk-tools, xen, …) and the project's openssl/musl excerpt. */
const SECDBS = () => [fixture('feeds/alpine-secdb/vulnerablecode-v3.11-main.json'), fileURLToPath(new URL('../fixtures/secdb/v3.11-main-openssl.json', import.meta.url))];
const maybe = HAVE_FIXTURES ? test.serial : test.serial.skip;
const note = HAVE_FIXTURES ? '' : NO_FIXTURES;

test.before(async (t) => {
  const h = await startOperatorLookout('remediation');
  if (HAVE_FIXTURES) {
    // Both secdb files as one feed run of the real parser (two files of one release, as the updater reads them).
    async function* records() {
      for (const file of SECDBS()) yield* parseSecdb(createReadStream(file), { updater: 'alpine', distribution: 'alpine:3.11', repository: 'main', what: file });
    }
    const run = await h.lookout.vulnerabilities.startRun('alpine');
    await h.lookout.vulnerabilities.applyRun(run, 'alpine', records());
    await h.lookout.vulnerabilities.finishRun(run, { state: 'changed', fingerprint: 'test' });
  }
  t.context = { h };
});

test.after.always(async (t) => {
  await t.context.h?.close();
});

/** The fixes the secdb files list per origin package: version → CVE ids. */
function secfixes(): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  for (const file of SECDBS()) {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { packages: Array<{ pkg: { name: string; secfixes: Record<string, string[]> } }> };
    for (const { pkg } of doc.packages) {
      const fixes = out.get(pkg.name) ?? new Map<string, string[]>();
      for (const [version, ids] of Object.entries(pkg.secfixes)) fixes.set(version, [...(fixes.get(version) ?? []), ...ids.flatMap((s) => s.split(/\s+/))]);
      out.set(pkg.name, fixes);
    }
  }
  return out;
}

/** The files of the archive's (single) layer that the apk and os-release scanners read. */
async function realLayerFiles(): Promise<Map<string, string>> {
  const [layer] = await dockerSaveLayers(readFileSync(fixture(IMAGE)));
  const extract = tar.extract();
  extract.end(layer);
  const out = new Map<string, string>();
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    if (['etc/os-release', 'etc/apk/repositories', 'lib/apk/db/installed'].includes(entry.header.name)) out.set(entry.header.name, Buffer.concat(chunks).toString('utf8'));
  }
  return out;
}

maybe(`a real Alpine image: the advised upgrade of each package is the highest fixed version the feed lists above it, and applying them leaves no fixable finding${note}`, async (t) => {
  const { h } = t.context;
  const scanned = await scanImage(h.lookout, fixture(IMAGE), {});
  const { report } = await h.lookout.reports.report(scanned.images[0]!.manifestId);
  t.true(report.findings.length > 0);

  // What the feed files say, independently of the matcher: per installed package, the fixes of
  // its origin above the installed version; the advice must be the highest of them.
  const expectedPackages = readFileSync(fixture('pkgdb/images/alpine-311.expected-packages.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  const fixes = secfixes();
  const expected = new Map<string, { to: string; ids: string[] }>();
  for (const [name, version, , origin] of expectedPackages) {
    const above = [...(fixes.get(origin!) ?? new Map()).entries()].filter(([v]) => apkVersion.compare(v, version!) > 0);
    if (above.length === 0) continue;
    above.sort(([a], [b]) => apkVersion.compare(a, b));
    expected.set(name!, { to: above[above.length - 1]![0], ids: above.flatMap(([, ids]) => ids).sort() });
  }
  t.deepEqual([...expected.keys()].sort(), ['libcrypto1.1', 'libssl1.1', 'musl', 'musl-utils']);
  const advice = report.remediation;
  t.deepEqual(
    advice.upgrades.map((u) => [u.name, u.installedVersion, u.upgradeTo, [...u.vulnerabilities].sort()]).sort(),
    [...expected.entries()].map(([name, e]) => [name, expectedPackages.find((p) => p[0] === name)![1], e.to, e.ids]).sort(),
  );
  t.like(advice.upgrades.find((u) => u.name === 'libssl1.1'), { upgradeTo: '1.1.1i-r0', fixedVersions: ['1.1.1g-r0', '1.1.1i-r0'], removes: { total: 2 }, remaining: 0, origin: 'unknown' });
  t.is(advice.fixable, report.summary.fixable);
  t.is(advice.findings, report.findings.length);
  t.is(advice.fixableShare, Math.round((advice.fixable / advice.findings) * 10_000) / 10_000);
  t.is(advice.base, null, 'no other known image is a base of this one');

  // Rebuild the image with the advised versions (the real installed database, those versions changed).
  const files = await realLayerFiles();
  let installed = files.get('lib/apk/db/installed')!;
  for (const u of advice.upgrades) {
    const before = installed;
    installed = installed.replace(new RegExp(`^(P:${u.name.replace(/[.+]/g, '\\$&')}\\nV:)${u.installedVersion.replace(/[.+]/g, '\\$&')}$`, 'm'), `$1${u.upgradeTo}`);
    t.not(installed, before, `${u.name} upgraded in the database`);
  }
  const layer = await h.layout.addLayer([...files.entries()].map(([path, content]) => ({ path, content: path === 'lib/apk/db/installed' ? installed : content })));
  const rebuilt = await indexImage(h, [layer], { repository: 'demo/rebuilt', tag: 'v1' });
  const after = (await h.lookout.reports.report(rebuilt.manifestId)).report;
  t.is(after.packages.length, expectedPackages.length, 'the same packages');
  t.deepEqual(after.findings.filter((f) => f.state === 'fixed' && f.fixedVersion !== null), [], 'no fixable finding remains');
  t.is(after.summary.fixable, 0);
  t.deepEqual(after.remediation.upgrades, []);
});

maybe(`lookout scan prints the remediation under the findings${note}`, async (t) => {
  const out = await runCli(['scan', fixture(IMAGE)], { DATABASE_URL: t.context.h.db.url, LOOKOUT_LOG__LEVEL: 'error' });
  t.is(out.status, 0, out.stderr);
  t.regex(out.stdout, /^Remediation [0-9]+ of [0-9]+ findings \(100%\) go away with package updates · base image unknown$/m);
  t.regex(out.stdout, /^ {2}libssl1\.1\s+1\.1\.1d-r3\s+1\.1\.1i-r0\s+2 \(2 Unknown\)\s+layer sha256:/m);
  t.regex(out.stdout, /^ {2}musl\s+1\.1\.24-r2\s+1\.1\.24-r3\s+1 \(1 Unknown\)/m);
});

test.serial('base and own layers: an image built on a known image says which upgrades the base brings', async (t) => {
  const { h } = t.context;
  for (const [id, origin, fixed] of [['CVE-2026-5001', 'openssl', '3.1.5-r0'], ['CVE-2026-5002', 'openssl', '3.1.6-r0'], ['CVE-2026-5003', 'busybox', '1.36.1-r20']] as const) {
    t.is((await api(h, 'POST', '/api/v1/advisories', alpineAdvisory(id, origin, fixed))).status, 201);
  }
  const pyAdvisory = { id: 'CVE-2026-5004', severity: 'Critical', affected: [{ ecosystem: 'pypi', package: 'Flask', ranges: [{ events: [{ introduced: '0' }, { fixed: '3.0.3' }] }] }, { ecosystem: 'pypi', package: 'requests', state: 'not_fixed' }] };
  t.is((await api(h, 'POST', '/api/v1/advisories', pyAdvisory)).status, 201);
  const base = await h.layout.addLayer(alpineLayerFiles([['busybox', '1.36.1-r15', 'busybox'], ['libssl3', '3.1.4-r0', 'openssl']]));
  const app = await h.layout.addLayer([
    { path: 'usr/lib/python3.11/site-packages/flask-2.0.0.dist-info/METADATA', content: 'Metadata-Version: 2.1\nName: Flask\nVersion: 2.0.0\n' },
    { path: 'usr/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA', content: 'Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n' },
  ]);
  const lone = await indexImage(h, [base, app], { repository: 'team/lone', tag: 'v1' });
  t.is((await h.lookout.reports.report(lone.manifestId)).report.remediation.base, null, 'before its base is known: unknown');
  const baseImage = await indexImage(h, [base], { repository: 'library/alpine', tag: '3.19' });
  const derived = await indexImage(h, [base, app], { repository: 'team/app', tag: 'v1' });
  const res = await api(h, 'GET', `/api/v1/images/${derived.digest}`);
  const remediation = res.json.report.remediation as ReturnType<typeof buildRemediation>;
  t.deepEqual(remediation.base, { digest: baseImage.digest, layers: 1 });
  t.deepEqual(remediation.upgrades.map((u) => [u.name, u.upgradeTo, u.removes.total, u.origin]), [
    ['flask', '3.0.3', 1, 'own'],
    ['libssl3', '3.1.6-r0', 2, 'base'],
    ['busybox', '1.36.1-r20', 1, 'base'],
  ]);
  t.like(remediation, { findings: 5, fixable: 4, fixableShare: 0.8, byOrigin: { base: 3, own: 2, unknown: 0 }, fixableByOrigin: { base: 3, own: 1, unknown: 0 } });
  t.deepEqual(remediation.upgrades[0]!.removes.bySeverity, { Unknown: 0, Negligible: 0, Low: 0, Medium: 0, High: 0, Critical: 1 });
  // A severity filter counts the advice again over what is shown.
  const critical = await api(h, 'GET', `/api/v1/images/${derived.digest}?severity=Critical`);
  t.deepEqual(critical.json.report.remediation.upgrades.map((u: { name: string }) => u.name), ['flask']);
  t.is(critical.json.report.remediation.fixableShare, 0.5);
  const html = await api(h, 'GET', `/images/${derived.digest}`);
  t.regex(html.text, /<h3>Remediation<\/h3>/);
  t.regex(html.text, /<td class="v">libssl3<\/td><td class="v">3\.1\.4-r0<\/td><td class="v">3\.1\.6-r0<\/td>/);
  t.regex(html.text, /base image/);
});

test('the smallest version fixing all of a package\u2019s findings is compared in its ecosystem\u2019s scheme, not as text', (t) => {
  const finding = (id: string, pkg: string, ecosystem: string, fixed: string | null, severity: Finding['severity'] = 'High'): Finding =>
    ({ key: `${pkg}/${id}`, packageId: pkg, package: { name: pkg, version: '1', ecosystem, sourceName: null, sourceVersion: null }, vulnerability: id, aliases: [], state: fixed ? 'fixed' : 'not_fixed', fixedVersion: fixed, severity }) as unknown as Finding;
  const r = buildRemediation({
    findings: [
      finding('A', 'django', 'pypi', '4.2.10'),
      finding('B', 'django', 'pypi', '4.2.9'),
      finding('C', 'django', 'pypi', '4.2.10rc1', 'Low'),
      finding('D', 'django', 'pypi', null, 'Critical'),
      finding('E', 'libx', 'dpkg', '1:1.0-1'),
      finding('F', 'libx', 'dpkg', '2.0-1'),
      finding('G', 'weird', 'cargo', '1.2.0'),
      finding('H', 'weird', 'cargo', '1.10.0'),
    ],
    packages: [],
    layers: [],
    base: null,
  });
  t.deepEqual(r.upgrades.map((u) => [u.name, u.upgradeTo, u.fixedVersions, u.removes.total, u.remaining]), [
    ['django', '4.2.10', ['4.2.9', '4.2.10rc1', '4.2.10'], 3, 1],
    ['libx', '1:1.0-1', ['2.0-1', '1:1.0-1'], 2, 0],
    ['weird', null, ['1.10.0', '1.2.0'], 2, 0],
  ]);
  t.like(r, { findings: 8, fixable: 7, fixableShare: 0.875 });
});

test('emails advise the upgrades of the findings they carry', (t) => {
  const digest = `sha256:${'e'.repeat(64)}`;
  const payload = (vulnerability: string, pkg: string, fixedVersion: string | null, event: 'newly-affected' | 'resolved' = 'newly-affected') => ({
    notificationId: vulnerability,
    payload: {
      version: 1 as const,
      event,
      image: { registry: 'local', repository: 'team/app', tags: ['v1'], digest },
      finding: { vulnerability, package: pkg, ecosystem: 'apk', installedVersion: '3.1.4-r0', fixedVersion, severity: 'High' as const, layer: null },
      links: imageLinks('https://lookout.example.test', digest),
    },
  });
  const content = buildDeliveryContent([payload('CVE-1', 'libssl3', '3.1.5-r0'), payload('CVE-2', 'libssl3', '3.1.10-r0'), payload('CVE-3', 'busybox', null), payload('CVE-4', 'zlib', '1.3-r0', 'resolved')]);
  t.deepEqual(emailUpgrades(content.images[0]!).map((u) => [u.package, u.upgradeTo, u.removes]), [['libssl3', '3.1.10-r0', 2]]);
  const email = renderEmail(content, { deliveryId: 'd-1', subscriptionName: 'ops' });
  t.true(email.text.includes('  * libssl3 3.1.4-r0 -> 3.1.10-r0 removes 2 (2 High)'), email.text);
  t.true(email.html.includes('<span style="font-family:monospace">libssl3</span> 3.1.4-r0 &rarr; <strong>3.1.10-r0</strong> removes 2 (2 High)'));
  t.false(email.text.includes('zlib 3.1.4-r0 ->'), 'a resolved finding needs no upgrade');
});

test.serial('the migration records the same layer chain ids as the report service', async (t) => {
  const { knex } = t.context.h.db;
  const digests = [randomDigest(), randomDigest(), randomDigest()];
  const layerIds = (await knex('layers').insert(digests.map((digest) => ({ digest }))).returning<{ id: string }[]>('id')).map((r) => r.id);
  const [manifest] = await knex('manifests').insert({ digest: randomDigest(), media_type: 'application/vnd.oci.image.manifest.v1+json', kind: 'image' }).returning<{ id: string }[]>('id');
  await knex('manifest_layers').insert(layerIds.map((layer_id, position) => ({ manifest_id: manifest!.id, position, layer_id })));
  await knex.raw(BACKFILL_LAYER_CHAINS);
  const row = await knex('image_layer_chains').where({ manifest_id: manifest!.id }).first();
  t.deepEqual({ chain: row.chain_id, layers: row.layers }, { chain: layerChainIds(digests)[2], layers: 3 });
  t.not(layerChainIds(digests)[1], layerChainIds([digests[1]!, digests[0]!])[1], 'the order counts');
});
