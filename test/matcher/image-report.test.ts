import test from 'ava';
import { AppError } from '../../src/errors/app-error.ts';
import {
  buildImageReport,
  buildIndexReport,
  failOn,
  filterFindings,
  filterReport,
  parseSeverity,
  parseSeverityList,
  REPORT_SCHEMA_VERSION,
} from '../../src/matcher/image-report.ts';
import { matchPackages } from '../../src/matcher/match-packages.ts';
import { HAVE_FIXTURES, NO_FIXTURES } from '../helpers/fixtures.ts';
import { IMAGE_DIGEST, LAYERS, ubiSampleReport, ubuntuSampleReport } from './sample-reports.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;

maybe(`the report document: image, generation, packages with their layer, findings, summary, notes, explanation${suffix}`, async (t) => {
  const report = await ubuntuSampleReport();
  t.like(report, {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'image',
    image: {
      digest: IMAGE_DIGEST,
      reference: 'registry.test/team/app:1.0',
      platform: { os: 'linux', architecture: 'amd64' },
      distribution: { did: 'ubuntu', versionId: '18.04', versionCodename: 'bionic', prettyName: 'Ubuntu 18.04.6 LTS', key: 'ubuntu:bionic' },
      layers: LAYERS,
    },
    generatedAt: '2025-06-01T12:00:00.000Z',
    vulnerabilityDatabase: { generation: 42 },
    matcher: { name: 'lookout-matcher', version: '1' },
  });
  t.is(report.packages.length, 359);
  t.like(report.packages.find((p) => p.name === 'libssl1.1'), { introducedIn: LAYERS[0], sourceName: 'openssl', path: 'var/lib/dpkg/status', ownerPackageId: null });
  t.deepEqual(report.findings.map((f) => [f.package.name.slice(0, 12), f.vulnerability, f.severity]), [
    ['org.apache.l', 'CVE-2021-44228', 'Critical'],
    ['libssl1.1', 'CVE-2020-1971', 'High'],
    ['openssl', 'CVE-2020-1971', 'High'],
    ['zlib1g', 'CVE-2018-25032', 'Medium'],
    ['tar', 'CVE-2018-20482', 'Low'],
    ['tar', 'CVE-2019-9923', 'Negligible'],
    ['evil<script>', 'GHSA-0000-0000-0001', 'Unknown'],
  ]);
  t.deepEqual(report.summary, {
    total: 7,
    bySeverity: { Unknown: 1, Negligible: 1, Low: 1, Medium: 1, High: 2, Critical: 1 },
    byState: { fixed: 4, not_fixed: 2, fix_deferred: 0, will_not_fix: 1, end_of_life: 0, under_investigation: 0, not_affected: 0 },
    fixable: 4,
    packages: { total: 359, vulnerable: 6 },
    suppressed: {
      'kernel-headers': { packages: 1, findings: 1 },
      'third-party': { packages: 0, findings: null },
      'owned-by-os-package': { packages: 0, findings: null },
      vex: { packages: 0, findings: 0 },
      exception: { packages: 0, findings: 0 },
    },
  });
  t.deepEqual(report.notes, ['1 finding in 1 kernel header package suppressed (they hold no running kernel; include them to see them)']);
  t.is(report.explain?.length, 359);
  t.like(report.explain?.find((e) => e.packageId === report.packages.find((p) => p.name === 'libpotrace0')!.id)?.checks[0], { vulnerability: 'CVE-2016-8703', verdict: 'not-in-range' });
  // The document is plain JSON: it survives a round trip unchanged.
  t.deepEqual(JSON.parse(JSON.stringify(report)), report);
});

test('buildImageReport rejects a bad digest, generation or time', (t) => {
  const match = matchPackages({ distribution: null, packages: [], records: [] });
  const base = { image: { digest: 'sha256:' + 'a'.repeat(64), mediaType: 'application/vnd.oci.image.manifest.v1+json' }, distribution: null, packages: [], match, generation: 1, generatedAt: new Date(0) };
  t.notThrows(() => buildImageReport(base));
  t.throws(() => buildImageReport({ ...base, image: { ...base.image, digest: 'sha256:xyz' } }), { message: 'image digest is not a valid sha256/sha512 digest' });
  t.throws(() => buildImageReport({ ...base, generation: -1 }), { instanceOf: RangeError });
  t.throws(() => buildImageReport({ ...base, generatedAt: 'yesterday' }), { instanceOf: RangeError });
  const empty = buildImageReport(base);
  t.is(empty.explain, undefined, 'the explanation is kept only when asked');
  t.is(empty.summary.total, 0);
});

maybe(`filters: ?severity=, fixable, ignore-unfixed; the summary is counted again${suffix}`, async (t) => {
  const report = await ubuntuSampleReport();
  t.deepEqual(parseSeverityList('high, CRITICAL,high'), ['High', 'Critical']);
  t.is(parseSeverity(' negligible '), 'Negligible');
  const bad = t.throws(() => parseSeverityList('High,severe'));
  t.true(bad instanceof AppError);
  t.like(bad, { status: 400, code: 'invalid_severity', message: 'unknown severity "severe"; valid: Unknown, Negligible, Low, Medium, High, Critical' });
  t.throws(() => parseSeverityList(' , '), { message: /^empty severity list/ });
  t.throws(() => parseSeverityList('High,'.repeat(100)), { message: 'severity list too long' });

  const high = filterReport(report, { severities: parseSeverityList('High,Critical') });
  t.deepEqual(high.findings.map((f) => f.vulnerability), ['CVE-2021-44228', 'CVE-2020-1971', 'CVE-2020-1971']);
  t.like(high.summary, { total: 3, fixable: 3, bySeverity: { High: 2, Critical: 1, Low: 0 }, packages: { total: 359, vulnerable: 3 } });
  t.deepEqual(high.summary.suppressed, report.summary.suppressed);
  t.is(report.findings.length, 7, 'the original is left alone');

  t.deepEqual(filterFindings(report.findings, { fixable: false }).map((f) => f.state), ['will_not_fix', 'not_fixed', 'not_fixed']);
  t.is(filterFindings(report.findings, { ignoreUnfixed: true }).length, 4);
  t.deepEqual(filterFindings(report.findings, { minSeverity: 'Medium', fixable: true }).map((f) => f.severity), ['Critical', 'High', 'High', 'Medium']);
});

maybe(`--fail-on: at or above the threshold, after ignore-unfixed; Unknown fails on anything${suffix}`, async (t) => {
  const report = await ubuntuSampleReport();
  t.deepEqual(failOn(report, 'Critical'), { fail: true, count: 1, worst: 'Critical' });
  t.deepEqual(failOn(report, 'High'), { fail: true, count: 3, worst: 'Critical' });
  t.deepEqual(failOn(report, 'Unknown'), { fail: true, count: 7, worst: 'Critical' });
  t.deepEqual(failOn(filterReport(report, { severities: ['Low', 'Negligible'] }), 'Medium'), { fail: false, count: 0, worst: 'Low' });
  t.deepEqual(failOn(report, 'Low', { ignoreUnfixed: true }), { fail: true, count: 4, worst: 'Critical' });
  const clean = ubiSampleReport();
  t.deepEqual(failOn(clean, 'Unknown'), { fail: false, count: 0, worst: null });
});

maybe(`an index: one report per platform, a summary over distinct findings, filters and --fail-on across platforms${suffix}`, async (t) => {
  const amd64 = await ubuntuSampleReport();
  const arm64 = { ...(await ubuntuSampleReport()), image: { ...amd64.image, digest: 'sha256:' + 'f'.repeat(64), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } } } as typeof amd64;
  const s390x = ubiSampleReport();
  const index = buildIndexReport({ digest: 'sha256:' + 'c'.repeat(64), mediaType: 'application/vnd.oci.image.index.v1+json', reference: 'registry.test/team/app:1.0', generation: 42, generatedAt: '2025-06-01T12:00:00Z', manifests: [amd64, arm64, s390x] });
  t.is(index.kind, 'index');
  t.is(index.manifests.length, 3);
  t.is(index.summary.total, 7, 'the same package version on two platforms counts once');
  t.is(index.summary.packages.vulnerable, 12);
  t.deepEqual(index.summary.suppressed['kernel-headers'], { packages: 2, findings: 2 });
  const critical = filterReport(index, { severities: ['Critical'] });
  t.deepEqual(critical.manifests.map((m) => m.findings.length), [1, 1, 0]);
  t.is(critical.summary.total, 1);
  t.deepEqual(failOn(index, 'Critical'), { fail: true, count: 2, worst: 'Critical' });
  t.throws(() => buildIndexReport({ digest: 'nope', mediaType: 'x', generation: 1, generatedAt: new Date(), manifests: [] }), { message: 'index digest is not a valid sha256/sha512 digest' });
});
