import test from 'ava';
import { renderCycloneDx, type CdxBom } from '../../src/matcher/format/cyclonedx.ts';
import { escapeHtml, renderHtml } from '../../src/matcher/format/html.ts';
import { renderSarif, type SarifLog } from '../../src/matcher/format/sarif.ts';
import { renderTable } from '../../src/matcher/format/table.ts';
import { buildIndexReport } from '../../src/matcher/image-report.ts';
import { HAVE_FIXTURES, NO_FIXTURES } from '../helpers/fixtures.ts';
import { LAYERS, ubiSampleReport, ubuntuSampleReport } from './sample-reports.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;
const ESC = '\u001b';

maybe(`table: grouped by package with one column layout throughout, no control characters unless colours are asked${suffix}`, async (t) => {
  const report = await ubuntuSampleReport();
  const text = renderTable(report);
  t.false(text.includes(ESC), 'an escape sequence from a package name never reaches the terminal');
  t.true(text.includes('evil<script>alert(1)</script>?[31m 1.0.0 (npm, layer 3 sha256:333333333333, app/node_modules/evil/package.json)'));
  const lines = text.split('\n');
  t.is(lines[0], `Image       ${report.image.digest}`);
  t.true(lines.includes('Findings    7: 1 Critical, 2 High, 1 Medium, 1 Low, 1 Negligible, 1 Unknown · 4 fixable'));
  t.true(lines.includes('Suppressed  1 finding in kernel header packages'));
  const headers = lines.filter((l) => l.trimStart().startsWith('VULNERABILITY'));
  t.is(headers.length, 6, 'one block per vulnerable package');
  t.is(new Set(headers).size, 1, 'every block has the same column layout');
  const severityColumn = headers[0]!.indexOf('SEVERITY');
  const tarRows = lines.filter((l) => l.startsWith('  CVE-2018-20482') || l.startsWith('  CVE-2019-9923'));
  t.deepEqual(tarRows.map((l) => l.slice(severityColumn).split(/\s{2,}/)[0]), ['Low', 'Negligible']);
  t.true(lines.includes('libssl1.1 1.1.1-1ubuntu2.1~18.04.5 (dpkg, source openssl, layer 1 sha256:111111111111, var/lib/dpkg/status)'));
  t.true(text.endsWith('\n'));

  const bySeverity = renderTable(report, { groupBy: 'severity' });
  t.deepEqual(bySeverity.split('\n').filter((l) => /^[A-Z][a-z]+ \(\d+\)$/.test(l)), ['Critical (1)', 'High (2)', 'Medium (1)', 'Low (1)', 'Negligible (1)', 'Unknown (1)']);
  const coloured = renderTable(report, { groupBy: 'severity', color: true });
  t.true(coloured.includes(`${ESC}[1;31mCritical${ESC}[0m (1)`));
  t.is(coloured.replace(/\u001b\[[0-9;]*m/g, ''), bySeverity, 'colours add escape codes and nothing else');
  t.true(renderTable(ubiSampleReport()).includes('No vulnerabilities found.'));
});

/** Structural checks of the SARIF 2.1.0 schema's requirements and of what code scanning reads. */
function assertSarif(t: import('ava').ExecutionContext, log: SarifLog): void {
  t.is(log.version, '2.1.0');
  t.is(log.$schema, 'https://json.schemastore.org/sarif-2.1.0.json');
  t.true(Array.isArray(log.runs) && log.runs.length === 1);
  for (const run of log.runs) {
    t.is(typeof run.tool.driver.name, 'string');
    t.true(run.tool.driver.name.length > 0);
    const ids = run.tool.driver.rules.map((r) => r.id);
    t.is(new Set(ids).size, ids.length, 'rule ids are unique');
    for (const rule of run.tool.driver.rules) {
      t.true(rule.id.length > 0 && rule.id.length <= 255);
      t.is(typeof rule.shortDescription.text, 'string');
      t.true(rule.shortDescription.text.length > 0 && rule.fullDescription.text.length > 0 && rule.help.text.length > 0);
      const score = rule.properties['security-severity'];
      t.regex(score, /^\d+\.\d$/, 'security-severity is a numeric string');
      t.true(Number(score) >= 0 && Number(score) <= 10);
      t.true(['error', 'warning', 'note', 'none'].includes(rule.defaultConfiguration.level));
      if (rule.helpUri !== undefined) t.regex(rule.helpUri, /^https?:\/\//);
    }
    for (const result of run.results) {
      t.true(result.ruleIndex >= 0 && run.tool.driver.rules[result.ruleIndex]!.id === result.ruleId, 'ruleIndex points at the rule');
      t.true(['error', 'warning', 'note', 'none'].includes(result.level));
      t.is(result.kind, 'fail');
      t.true(result.message.text.length > 0);
      t.true(result.locations.length >= 1);
      const { artifactLocation, region } = result.locations[0]!.physicalLocation;
      t.notThrows(() => new URL(artifactLocation.uri, 'file:///'), 'uri is a URI reference');
      t.false(/[\s<>"{}|\\^`]/.test(artifactLocation.uri));
      t.true(region.startLine >= 1 && region.startColumn >= 1);
      t.regex(Object.values(result.partialFingerprints)[0]!, /^[0-9a-f]{64}$/);
    }
  }
}

maybe(`SARIF 2.1.0: rules are vulnerabilities with security-severity, results are findings at their package database${suffix}`, async (t) => {
  const report = await ubuntuSampleReport();
  const log = renderSarif(report);
  assertSarif(t, log);
  const run = log.runs[0]!;
  t.deepEqual(run.tool.driver.rules.map((r) => r.id), ['CVE-2021-44228', 'CVE-2020-1971', 'CVE-2018-25032', 'CVE-2018-20482', 'CVE-2019-9923', 'GHSA-0000-0000-0001']);
  t.is(run.results.length, 7);
  const log4j = run.tool.driver.rules[0]!;
  t.like(log4j, { helpUri: 'https://github.com/advisories/GHSA-jfh8-c2jp-5v3q', defaultConfiguration: { level: 'error' }, properties: { 'security-severity': '9.5', tags: ['security', 'vulnerability', 'critical'] } });
  t.false(log4j.help.markdown.includes('<b>'), 'markup from the feed is escaped in the markdown help');
  t.is(run.tool.driver.rules[1]!.shortDescription.text, 'CVE-2020-1971: EDIPARTYNAME NULL pointer de-reference.');
  const ssl = run.results.filter((r) => r.ruleId === 'CVE-2020-1971');
  t.deepEqual(ssl.map((r) => r.locations[0]!.physicalLocation.artifactLocation.uri), ['var/lib/dpkg/status', 'var/lib/dpkg/status']);
  t.is(ssl[0]!.message.text, 'Package libssl1.1 1.1.1-1ubuntu2.1~18.04.5 (dpkg) is affected by CVE-2020-1971, severity High; fixed in 1.1.1-1ubuntu2.1~18.04.7.');
  t.not(ssl[0]!.partialFingerprints['lookoutFinding/v1'], ssl[1]!.partialFingerprints['lookoutFinding/v1']);
  t.like(run.results.find((r) => r.ruleId === 'CVE-2019-9923'), { level: 'note', properties: { state: 'not_fixed', layer: LAYERS[0] } });
  t.like(run.properties, { imageDigest: report.image.digest, vulnerabilityDatabaseGeneration: 42 });
  t.deepEqual(JSON.parse(JSON.stringify(log)), log);

  // An index: one run, results of every platform, the same rules.
  const index = buildIndexReport({ digest: 'sha256:' + 'c'.repeat(64), mediaType: 'application/vnd.oci.image.index.v1+json', generation: 42, generatedAt: report.generatedAt, manifests: [report, ubiSampleReport()] });
  const both = renderSarif(index);
  assertSarif(t, both);
  t.is(both.runs[0]!.results.length, 7);
});

const CDX_TYPES = ['application', 'framework', 'library', 'container', 'platform', 'operating-system', 'device', 'device-driver', 'firmware', 'file', 'machine-learning-model', 'data', 'cryptographic-asset'];
const CDX_SEVERITIES = ['critical', 'high', 'medium', 'low', 'info', 'none', 'unknown'];
const CDX_METHODS = ['CVSSv2', 'CVSSv3', 'CVSSv31', 'CVSSv4', 'OWASP', 'SSVC', 'other'];
const CDX_STATES = ['resolved', 'resolved_with_pedigree', 'exploitable', 'in_triage', 'false_positive', 'not_affected'];
const CDX_JUSTIFICATIONS = ['code_not_present', 'code_not_reachable', 'requires_configuration', 'requires_dependency', 'requires_environment', 'protected_by_compiler', 'protected_at_runtime', 'protected_at_perimeter', 'protected_by_mitigating_control'];
const CDX_RESPONSES = ['can_not_fix', 'will_not_fix', 'update', 'rollback', 'workaround_available'];

/** Structural checks of the CycloneDX 1.6 JSON schema's requirements. */
function assertCycloneDx(t: import('ava').ExecutionContext, bom: CdxBom): void {
  t.is(bom.bomFormat, 'CycloneDX');
  t.is(bom.specVersion, '1.6');
  t.regex(bom.serialNumber, /^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/);
  t.true(Number.isInteger(bom.version) && bom.version >= 1);
  t.false(Number.isNaN(Date.parse(bom.metadata.timestamp)));
  const refs = [bom.metadata.component, ...bom.metadata.tools.components, ...bom.components, ...bom.vulnerabilities].map((x) => x['bom-ref']);
  t.is(new Set(refs).size, refs.length, 'bom-refs are unique');
  for (const c of [bom.metadata.component, ...bom.metadata.tools.components, ...bom.components]) {
    t.true(CDX_TYPES.includes(c.type), c.type);
    t.true(typeof c.name === 'string' && c.name.length > 0);
    if (c.purl !== undefined) t.regex(c.purl, /^pkg:[a-z]+\//);
    for (const p of c.properties ?? []) t.true(p.name.length > 0 && typeof p.value === 'string');
  }
  const componentRefs = new Set(bom.components.map((c) => c['bom-ref']));
  for (const v of bom.vulnerabilities) {
    t.true(v.id.length > 0);
    for (const r of v.ratings) {
      t.true(CDX_SEVERITIES.includes(r.severity), r.severity);
      t.true(CDX_METHODS.includes(r.method), r.method);
      if (r.score !== undefined) t.true(r.score >= 0 && r.score <= 10);
    }
    t.true(v.affects.length >= 1);
    for (const a of v.affects) {
      t.true(componentRefs.has(a.ref), `affects ${a.ref}`);
      for (const ver of a.versions) t.true(['affected', 'unaffected', 'unknown'].includes(ver.status));
    }
    t.true(CDX_STATES.includes(v.analysis.state), v.analysis.state);
    if (v.analysis.justification !== undefined) t.true(CDX_JUSTIFICATIONS.includes(v.analysis.justification));
    for (const r of v.analysis.response ?? []) t.true(CDX_RESPONSES.includes(r));
    for (const a of v.advisories ?? []) t.regex(a.url, /^https?:\/\//);
    if (v.published !== undefined) t.false(Number.isNaN(Date.parse(v.published)));
  }
}

maybe(`CycloneDX 1.6: components with purls, vulnerabilities with ratings, affects and analysis (VEX), deterministic serial${suffix}`, async (t) => {
  const report = await ubuntuSampleReport();
  const bom = renderCycloneDx(report);
  assertCycloneDx(t, bom);
  t.like(bom.metadata.component, { type: 'container', name: 'registry.test/team/app:1.0', version: report.image.digest });
  t.deepEqual(bom.components[0], { type: 'operating-system', 'bom-ref': 'os', name: 'ubuntu', version: '18.04', properties: [{ name: 'lookout:distribution:key', value: 'ubuntu:bionic' }, { name: 'lookout:platform', value: 'linux/amd64' }] });
  t.is(bom.components.length, 1 + report.packages.length);
  t.is(bom.components.find((c) => c.name === 'org.apache.logging.log4j:log4j-core')?.purl, 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1');
  const log4j = bom.vulnerabilities.find((v) => v.id === 'CVE-2021-44228')!;
  t.deepEqual(log4j.ratings, [
    { source: { name: 'osv-maven' }, severity: 'critical', method: 'other' },
    { source: { name: 'osv-maven' }, score: 10, severity: 'critical', method: 'CVSSv31', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H' },
  ]);
  t.deepEqual(log4j.references, [{ id: 'GHSA-jfh8-c2jp-5v3q', source: { name: 'GitHub', url: 'https://github.com/advisories/GHSA-jfh8-c2jp-5v3q' } }]);
  t.deepEqual(log4j.analysis, { state: 'exploitable', response: ['update'], detail: 'fixed in 2.15.0' });
  t.is(log4j.recommendation, 'Upgrade org.apache.logging.log4j:log4j-core to 2.15.0 or later.');
  t.deepEqual(log4j.advisories, [{ url: 'https://github.com/advisories/GHSA-jfh8-c2jp-5v3q' }], 'a javascript: link is not an advisory');
  t.true(log4j.properties!.some((p) => p.name === 'lookout:kev' && p.value === 'true'));
  t.deepEqual(bom.vulnerabilities.find((v) => v.id === 'CVE-2018-20482')!.analysis, { state: 'exploitable', response: ['will_not_fix'], detail: 'the vendor will not fix it: ignored' });
  t.deepEqual(bom.vulnerabilities.find((v) => v.id === 'CVE-2019-9923')!.ratings, [{ source: { name: 'ubuntu' }, severity: 'info', method: 'other' }]);
  t.deepEqual(renderCycloneDx(report), bom, 'the same report gives the same BOM');

  // Red Hat's not-affected statements become not_affected analyses with a justification.
  const ubi = renderCycloneDx(ubiSampleReport());
  assertCycloneDx(t, ubi);
  const vex = ubi.vulnerabilities.filter((v) => v.analysis.state === 'not_affected');
  t.true(vex.length >= 2);
  t.like(vex[0], { id: 'CVE-2023-38545', analysis: { state: 'not_affected', justification: 'code_not_present' } });
  t.is(vex[0]!.affects[0]!.versions[0]!.status, 'unaffected');

  const index = buildIndexReport({ digest: 'sha256:' + 'c'.repeat(64), mediaType: 'application/vnd.oci.image.index.v1+json', generation: 42, generatedAt: report.generatedAt, manifests: [report, ubiSampleReport()] });
  assertCycloneDx(t, renderCycloneDx(index));
});

maybe(`HTML: self-contained, severity chart in inline SVG, findings grouped by introducing layer, every text escaped${suffix}`, async (t) => {
  const report = await ubuntuSampleReport();
  const html = renderHtml(report);
  t.true(html.startsWith('<!DOCTYPE html>\n<html lang="en">'));
  t.true(html.includes(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`));
  t.false(/<script/i.test(html), 'no script element, even from package names or descriptions');
  t.false(/<img/i.test(html));
  t.false(/javascript:/i.test(html.replace(/&#\d+;/g, '')), 'no javascript: link');
  t.false(/\b(src|href)="(?!https?:)/.test(html), 'no relative or data URLs in links');
  t.false(/<link|@import|url\(/i.test(html), 'no external assets');
  t.true(html.includes('evil&#60;script&#62;alert(1)&#60;/script&#62;'));
  t.true(html.includes('&#34;&#62;&#60;img src=x onerror=alert(2)&#62;'));
  t.is((html.match(/<rect /g) ?? []).length, 6, 'one bar per severity');
  t.true(html.includes('<title>Critical: 1</title>'));
  const layer1 = html.indexOf(`Layer 1 · ${LAYERS[0]}`);
  const layer3 = html.indexOf(`Layer 3 · ${LAYERS[2]}`);
  t.true(layer1 > 0 && layer3 > layer1, 'the base layer first');
  t.false(html.includes(`Layer 2 · ${LAYERS[1]}`), 'a layer that introduced no vulnerable package has no table');
  t.true(html.includes('<a href="https://github.com/advisories/GHSA-jfh8-c2jp-5v3q" rel="noreferrer noopener">CVE-2021-44228</a>'));
  t.is(escapeHtml(`<a href="x" onclick='y'>&\``), '&#60;a href=&#34;x&#34; onclick=&#39;y&#39;&#62;&#38;&#96;');

  const index = buildIndexReport({ digest: 'sha256:' + 'c'.repeat(64), mediaType: 'application/vnd.oci.image.index.v1+json', generation: 42, generatedAt: report.generatedAt, manifests: [report, ubiSampleReport()] });
  const page = renderHtml(index);
  t.true(page.includes('<h2>linux/amd64</h2>') && page.includes('<h2>linux/s390x</h2>'));
  t.is((page.match(/<svg /g) ?? []).length, 3);
});
