import anyTest, { type TestFn } from 'ava';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildLookout, type Lookout } from '../../src/app/composition-root.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startFeedServer } from '../helpers/feed-server.ts';
import { fixture, HAVE_FIXTURES } from '../helpers/fixtures.ts';
import { OciLayoutBuilder, type BuiltManifest } from '../helpers/oci-image-builder.ts';
import { HAVE_REGISTRY, pushImage, startRegistry, type RunningRegistry } from '../helpers/registry-harness.ts';
import { testConfig } from '../helpers/test-config.ts';
import { CHROMIUM, launchChromium, NO_CHROMIUM } from '../helpers/chromium.ts';

interface Context {
  db: TestDatabase;
  registry: RunningRegistry;
  lookout: Lookout;
  base: string;
  dir: string;
  image: BuiltManifest;
  multi: BuiltManifest;
  arm: BuiltManifest;
}

const test = anyTest as TestFn<Context>;
const ready = HAVE_REGISTRY && HAVE_FIXTURES;
const maybe = ready ? test.serial : test.serial.skip;
const note = ready ? '' : ' (skipped: needs docker-registry, skopeo and the shared fixtures)';

const dpkg = (name: string, version: string, source?: string) =>
  `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\n${source ? `Source: ${source}\n` : ''}Maintainer: Debian Chromium Team <chromium@packages.debian.org>\nDescription: ${name}\n`;

if (ready) {
  test.before(async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-api-'));
    const layout = await OciLayoutBuilder.create(dir);
    const base = await layout.addLayer([
      { path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' },
      {
        path: 'var/lib/dpkg/status',
        // chromium: vulnerable (fixed in 98.0.4758.80-1); libsope1 from source sope at 5.8.0-1: vulnerable
        // through its SOURCE package (fixed in 5.8.0-1+deb12u1); sope-tools already has the fix.
        content: [dpkg('chromium', '97.0.4692.99-1'), dpkg('libsope1', '5.8.0-1', 'sope'), dpkg('zlib1g', '1:1.2.13.dfsg-1', 'zlib')].join('\n'),
      },
    ]);
    const image = await layout.addImage({ layers: [base], platform: { os: 'linux', architecture: 'amd64' } });
    const fixedLayer = await layout.addLayer([
      { path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
      { path: 'var/lib/dpkg/status', content: [dpkg('chromium', '98.0.4758.80-1'), dpkg('libsope1', '5.8.0-1+deb12u1', 'sope (5.8.0-1+deb12u1)')].join('\n') },
    ]);
    const arm = await layout.addImage({ layers: [fixedLayer], platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    const multi = await layout.addIndex([image, arm]);
    await layout.tag('app', image);
    await layout.tag('multi', multi);

    const registry = await startRegistry();
    await pushImage(dir, 'app', registry, 'team/app:v1');
    await pushImage(dir, 'app', registry, 'team/other:v1');
    await pushImage(dir, 'multi', registry, 'team/multi:v1', { all: true });

    const feedServer = await startFeedServer();
    feedServer.set('/tracker/json', { body: readFileSync(fixture('feeds/debian/vunnel-security-tracker-sample.json')) });
    const db = await createTestDatabase('api');
    const config = testConfig(db.url, {
      registries: [{ name: 'local', url: registry.url, webhookSecret: 'api-test-secret' }],
      intake: { debounceSeconds: 0 },
      feeds: { enabled: true, debian: { url: feedServer.url('/tracker/json'), options: { releases: ['bookworm'] } } },
    });
    const lookout = await buildLookout(config, { logger: createLogger('silent'), migrate: false });
    const outcomes = await lookout.feeds.runNow(['debian']);
    if (outcomes[0]?.state !== 'changed') throw new Error(`debian feed did not load: ${JSON.stringify(outcomes)}`);
    const address = await lookout.start();
    await feedServer.close();
    t.context = { db, registry, lookout, base: `http://127.0.0.1:${address.port}`, dir, image, multi, arm };
  });

  test.after.always(async (t) => {
    await t.context.lookout?.stop();
    await t.context.registry?.stop();
    await t.context.db?.drop();
    if (t.context.dir) await rm(t.context.dir, { recursive: true, force: true });
  });
}

async function get(t: { context: Context }, pathname: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.context.base}${pathname}`, { headers });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, text, json };
}

async function untilDone(t: { context: Context }, digest: string) {
  for (let i = 0; i < 300; i++) {
    const res = await get(t, `/api/v1/images/${digest}`);
    if (res.status === 200 && ['done', 'failed'].includes(res.json.status)) return res;
    await sleep(200);
  }
  throw new Error(`${digest} was not indexed in time`);
}

maybe(`POST /api/v1/scans queues an image of a configured registry; its status goes from queued to done with findings${note}`, async (t) => {
  const { base, image } = t.context;
  const host = new URL(t.context.registry.url).host;
  const res = await fetch(`${base}/api/v1/scans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image: `${host}/team/app:v1` }) });
  t.is(res.status, 202);
  const body = (await res.json()) as { digest: string; status: string };
  t.is(body.digest, image.digest);
  t.is(res.headers.get('location'), `/api/v1/images/${image.digest}`);

  const done = await untilDone(t, image.digest);
  t.is(done.json.status, 'done', done.json.statusReason ?? '');
  t.deepEqual(done.json.repositories, [{ registry: 'local', repository: 'team/app', tags: ['v1'] }]);
  const report = done.json.report as { findings: { packageId: number; vulnerability: string; package: { name: string; version: string }; fixedVersion: string }[]; packages: { id: number; introducedIn: string }[] };
  const brief = report.findings.map((f) => `${f.package.name} ${f.package.version} ${f.vulnerability} fixed in ${f.fixedVersion}`).sort();
  t.deepEqual(brief, ['chromium 97.0.4692.99-1 CVE-2022-0456 fixed in 98.0.4758.80-1', 'libsope1 5.8.0-1 CVE-2025-53603 fixed in 5.8.0-1+deb12u1']);
  const layerOf = new Map(report.packages.map((p) => [p.id, p.introducedIn]));
  t.true(report.findings.every((f) => layerOf.get(f.packageId) === image.layers![0]!.digest), 'each finding names the layer that introduced the package');
  t.is(done.json.report.summary.fixable, 2);
});

maybe(`ETag and If-None-Match give 304; ?wait holds the request until the status changes${note}`, async (t) => {
  const { image, lookout } = t.context;
  const first = await get(t, `/api/v1/images/${image.digest}`);
  const etag = first.headers.get('etag')!;
  t.truthy(etag);
  const again = await get(t, `/api/v1/images/${image.digest}`, { 'if-none-match': etag });
  t.is(again.status, 304);

  const started = Date.now();
  const waited = await get(t, `/api/v1/images/${image.digest}?wait=1`, { 'if-none-match': etag });
  t.is(waited.status, 304);
  t.true(Date.now() - started >= 900, 'held for the wait');

  // A change while waiting answers at once with the new document.
  const row = await lookout.images.manifestByDigest(image.digest);
  const pending = get(t, `/api/v1/images/${image.digest}?wait=10`, { 'if-none-match': etag });
  await sleep(400);
  await lookout.images.setStatus(row!.id, 'matching');
  const changed = await pending;
  t.is(changed.status, 200);
  t.is(changed.json.status, 'matching');
  t.not(changed.headers.get('etag'), etag);
  await lookout.images.setStatus(row!.id, 'done');
});

maybe(`filters, output formats, the HTML report and bad input${note}`, async (t) => {
  const { image } = t.context;
  const none = await get(t, `/api/v1/images/${image.digest}?severity=Critical`);
  t.deepEqual(none.json.report.findings, []);
  const unfixable = await get(t, `/api/v1/images/${image.digest}?fixable=false`);
  t.deepEqual(unfixable.json.report.findings, []);

  const sarif = await get(t, `/api/v1/images/${image.digest}?format=sarif`);
  t.is(sarif.status, 200);
  t.is(sarif.json.version, '2.1.0');
  t.true(sarif.json.runs[0].results.length >= 2);
  const cdx = await get(t, `/api/v1/images/${image.digest}?format=cyclonedx`);
  t.is(cdx.json.bomFormat, 'CycloneDX');
  t.true(cdx.json.vulnerabilities.some((v: { id: string }) => v.id === 'CVE-2022-0456'));

  const html = await get(t, `/images/${image.digest}`, { accept: 'text/html' });
  t.is(html.status, 200);
  t.regex(html.headers.get('content-type') ?? '', /^text\/html/);
  t.regex(html.text, /CVE-2022-0456/);
  t.notRegex(html.text, /<script[^>]+src=|<link[^>]+href="http/, 'self-contained');

  t.is((await get(t, '/api/v1/images/sha256:nothex')).status, 400);
  t.is((await get(t, `/api/v1/images/sha256:${'0'.repeat(64)}`)).status, 404);
  t.is((await get(t, `/api/v1/images/${image.digest}?severity=Dire`)).status, 400);
  t.is((await get(t, `/api/v1/images/${image.digest}?format=pdf`)).status, 400);
  const openapi = await get(t, '/api/v1/openapi.json');
  t.is(openapi.json.openapi, '3.1.0');
});

const maybeBrowser = ready && CHROMIUM ? test.serial : test.serial.skip;
const browserNote = !ready ? note : CHROMIUM ? '' : NO_CHROMIUM;

maybeBrowser(`the HTML report renders in headless Chromium: the severity chart is drawn to scale, the findings table has a row per finding, nothing is fetched but the page${browserNote}`, async (t) => {
  const { base, image } = t.context;
  const json = await untilDone(t, image.digest);
  const report = json.json.report as { summary: { bySeverity: Record<string, number> }; findings: { packageId: number; vulnerability: string; package: { name: string }; severity: string }[]; packages: { id: number; introducedIn: string }[]; remediation: { upgrades: { name: string; upgradeTo: string | null }[] } };
  t.true(report.findings.length > 0, 'the image has findings to show');

  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    const response = await page.goto(`${base}/images/${image.digest}`, { waitUntil: 'load' });
    t.is(response?.status(), 200);
    t.regex((await response?.headerValue('content-type')) ?? '', /^text\/html/);
    t.deepEqual(requests, [`${base}/images/${image.digest}`], 'self-contained: no request but the page itself');
    t.deepEqual(consoleErrors, [], 'no CSP or rendering errors');

    const chart = page.locator('svg.chart');
    t.true(await chart.isVisible(), 'the severity chart is visible');
    const box = await chart.boundingBox();
    t.true(box !== null && box.width > 100 && box.height > 50, `the chart has a size (${JSON.stringify(box)})`);
    // One bar per severity, its drawn width proportional to the count the JSON report gives.
    const bars = await chart.locator('rect').evaluateAll((rects) =>
      rects.map((r) => ({ label: r.querySelector('title')?.textContent ?? '', width: r.getBoundingClientRect().width })),
    );
    const counts = report.summary.bySeverity;
    const max = Math.max(...Object.values(counts));
    t.is(bars.length, Object.keys(counts).length);
    for (const bar of bars) {
      const [severity, shown] = bar.label.split(': ');
      t.is(Number(shown), counts[severity!] ?? -1, `${severity} bar label`);
      if (counts[severity!] === 0) t.is(bar.width, 0, `${severity} has no bar`);
      else t.true(Math.abs(bar.width / 420 - counts[severity!]! / max) < 0.02, `${severity} bar drawn to scale (${bar.width}px)`);
    }

    // Findings grouped under the layer that introduced them: the table rows are the findings.
    const layerOf = new Map(report.packages.map((p) => [p.id, p.introducedIn]));
    const layers = new Set(report.findings.map((f) => layerOf.get(f.packageId)!));
    const headings = await page.locator('h3', { hasText: /^Layer / }).allInnerTexts();
    t.is(headings.length, layers.size);
    t.true(headings.every((h) => [...layers].some((l) => h.includes(l))), 'each group names its layer digest');
    const rows = await page.locator('table.findings tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td as unknown as { innerText: string }).innerText.split('\n')[0]!.trim())));
    const expected = report.findings.map((f) => [f.package.name, f.vulnerability, f.severity].join(' ')).sort();
    t.deepEqual(rows.map((cells) => [cells[0], cells[2], cells[3]].join(' ')).sort(), expected);
    // The remediation table: one row per advised upgrade, with the version the report advises.
    const upgrades = await page.locator('table.remediation tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td as unknown as { innerText: string }).innerText.split('\n')[0]!.trim())));
    t.deepEqual(upgrades.map((cells) => `${cells[0]} ${cells[2]}`), report.remediation.upgrades.map((u) => `${u.name} ${u.upgradeTo}`));
    for (const link of await page.locator('table a').all()) t.true(await link.isVisible(), 'vulnerability links are visible');
  } finally {
    await browser.close();
  }
});

maybe(`a tag's current digest and status; the image list; an index is reported per platform${note}`, async (t) => {
  const { base, multi, arm, image } = t.context;
  const host = new URL(t.context.registry.url).host;
  await fetch(`${base}/api/v1/scans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image: `${host}/team/multi:v1` }) });
  await untilDone(t, arm.digest);
  const index = await get(t, `/api/v1/images/${multi.digest}`);
  t.is(index.json.kind, 'index');
  t.deepEqual(index.json.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture).sort(), ['amd64', 'arm64']);
  const armStatus = index.json.manifests.find((m: { digest: string }) => m.digest === arm.digest);
  t.deepEqual(armStatus.report.findings, [], 'the arm64 image has the fixed versions');

  const tag = await get(t, '/api/v1/repositories/team/app/tags/v1');
  t.is(tag.status, 200);
  t.is(tag.json.digest, image.digest);
  t.is(tag.json.status.status, 'done');
  t.is((await get(t, '/api/v1/repositories/team/app/tags/nope')).status, 404);

  const list = await get(t, '/api/v1/images?repository=team/app');
  t.deepEqual(list.json.items.map((i: { digest: string }) => i.digest), [image.digest]);
  const high = await get(t, '/api/v1/images?severity=Critical');
  t.deepEqual(high.json.items, []);
});

maybe(`a scan request for an unconfigured registry or a malformed reference is refused${note}`, async (t) => {
  const { base } = t.context;
  const post = (body: unknown) => fetch(`${base}/api/v1/scans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const other = await post({ image: 'registry.example.internal:5000/team/app:v1' });
  t.is(other.status, 400);
  t.is(((await other.json()) as { code: string }).code, 'registry_not_configured');
  t.is((await post({ image: 'UPPER/Case:tag' })).status, 400);
  t.is((await post({ nope: 1 })).status, 400);
});
