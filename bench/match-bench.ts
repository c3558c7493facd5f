import { isAffected } from '../src/ecosystems/affected-range.ts';
import { versionScheme } from '../src/ecosystems/version-schemes.ts';
import { renderCycloneDx } from '../src/matcher/format/cyclonedx.ts';
import { renderHtml } from '../src/matcher/format/html.ts';
import { renderSarif } from '../src/matcher/format/sarif.ts';
import { renderTable } from '../src/matcher/format/table.ts';
import { buildImageReport } from '../src/matcher/image-report.ts';
import type { CandidateRecord } from '../src/matcher/match-input.ts';
import { matchPackages } from '../src/matcher/match-packages.ts';
import { matchPlan } from '../src/matcher/match-plan.ts';
import type { Bench, BenchContext } from './figure.ts';
import { percentile } from './bench-database.ts';
import { workload } from './match-workload.ts';

function timeRuns(runs: number, fn: () => void): number[] {
  for (let i = 0; i < 3; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times.sort((a, b) => a - b);
}

/**
 * Matching one image of 500 packages against 10,000+ candidate records (the pure part of a scan:
 * checks, merging, enrichment-free findings and explanations), p50 and p99 over repeated runs,
 * against a reference measured in the same run: `isAffected` alone over the same (package, record)
 * pairs the matcher has to compare. Also the time to build the report and render it in every format.
 */
const matchBench: Bench = async (ctx: BenchContext) => {
  const { packages, records, distribution } = workload();
  const plan = matchPlan(distribution, null, packages);
  const names = new Map(plan.lookups.map((l) => [`${l.ecosystem}\u0000${l.distribution ?? ''}`, new Set(l.packageNames)]));
  const fetched = records.filter((r) => names.get(`${r.ecosystem}\u0000${r.distribution ?? ''}`)?.has(r.packageName));
  if (packages.length !== 500 || fetched.length < 10_000) throw new Error(`workload: ${packages.length} packages, ${fetched.length} records`);

  // The reference: the version checks alone, for every (package, record) pair sharing a name.
  const byName = new Map<string, CandidateRecord[]>();
  for (const r of fetched) byName.set(`${r.ecosystem}\u0000${r.packageName}`, [...(byName.get(`${r.ecosystem}\u0000${r.packageName}`) ?? []), r]);
  const pairs: Array<{ version: string; record: CandidateRecord; scheme: ReturnType<typeof versionScheme> }> = [];
  for (const p of packages) {
    for (const r of byName.get(`${p.ecosystem}\u0000${p.name}`) ?? []) if (r.packageKind === 'binary') pairs.push({ version: p.version, record: r, scheme: versionScheme(r.ecosystem) });
    if (p.sourceName) for (const r of byName.get(`${p.ecosystem}\u0000${p.sourceName}`) ?? []) if (r.packageKind === 'source') pairs.push({ version: p.sourceVersion ?? p.version, record: r, scheme: versionScheme(r.ecosystem) });
  }
  let affectedPairs = 0;
  const reference = timeRuns(60, () => {
    affectedPairs = 0;
    for (const { version, record, scheme } of pairs) if (isAffected(scheme, version, record)) affectedPairs++;
  });

  let findings = 0;
  const times = timeRuns(60, () => {
    findings = matchPackages({ distribution, packages, records: fetched }).findings.length;
  });
  const ref = { name: 'matcher.version_checks_only_ms', value: percentile(reference, 50), unit: 'ms' };
  ctx.emit({ ...ref, reference: null, p99: percentile(reference, 99), note: `isAffected over the ${pairs.length} (package, record) pairs of the same image (${affectedPairs} affected), nothing else` });
  ctx.emit({
    name: 'matcher.match_500_packages_ms',
    value: percentile(times, 50),
    unit: 'ms',
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    runs: times.length,
    reference: ref,
    note: `500 packages (320 dpkg from 200 sources, 80 npm, 60 PyPI, 40 Go) × ${fetched.length} candidate records → ${findings} findings; checks, merging and explanations, without the database`,
  });

  const match = matchPackages({ distribution, packages, records: fetched });
  const report = buildImageReport({ image: { digest: `sha256:${'0'.repeat(64)}`, mediaType: 'application/vnd.oci.image.manifest.v1+json' }, distribution, packages, match, generation: 1, generatedAt: new Date(0), explain: true });
  const render = timeRuns(20, () => {
    renderTable(report);
    JSON.stringify(renderSarif(report));
    JSON.stringify(renderCycloneDx(report));
    renderHtml(report);
  });
  const json = timeRuns(20, () => JSON.stringify(report));
  const jsonRef = { name: 'matcher.report_json_ms', value: percentile(json, 50), unit: 'ms' };
  ctx.emit({ ...jsonRef, reference: null, note: `JSON.stringify of the report with its explanation (${(JSON.stringify(report).length / 1024 / 1024).toFixed(1)} MiB)` });
  ctx.emit({ name: 'matcher.render_all_formats_ms', value: percentile(render, 50), unit: 'ms', p99: percentile(render, 99), reference: jsonRef, note: `table + SARIF + CycloneDX + HTML of the same report (${report.findings.length} findings)` });
};

export default matchBench;
