import { isAffected } from '../src/ecosystems/affected-range.ts';
import type { FoundDistribution } from '../src/ecosystems/scanner.ts';
import { versionScheme } from '../src/ecosystems/version-schemes.ts';
import type { FindingState, RangeEvent, Severity } from '../src/ecosystems/vulnerability-record.ts';
import { renderCycloneDx } from '../src/matcher/format/cyclonedx.ts';
import { renderHtml } from '../src/matcher/format/html.ts';
import { renderSarif } from '../src/matcher/format/sarif.ts';
import { renderTable } from '../src/matcher/format/table.ts';
import { buildImageReport } from '../src/matcher/image-report.ts';
import type { CandidateRecord, MatchPackage } from '../src/matcher/match-input.ts';
import { matchPackages } from '../src/matcher/match-packages.ts';
import { matchPlan } from '../src/matcher/match-plan.ts';
import type { Bench, BenchContext } from './figure.ts';

/** A small seeded generator (mulberry32), so every run matches the same image against the same records. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = ['lib', 'ssl', 'xml', 'curl', 'gnu', 'tls', 'z', 'png', 'jpeg', 'tiff', 'sql', 'ite', 'krb', 'pam', 'sys', 'temd', 'util', 'core', 'net', 'dbus', 'glib', 'gtk', 'http', 'pcre', 'ldap', 'sasl', 'nss', 'icu', 'uv', 'ev'];
const SEVERITY_WORDS: Array<[string, Severity]> = [['low', 'Low'], ['medium', 'Medium'], ['high', 'High'], ['unimportant', 'Negligible'], ['not yet assigned', 'Unknown']];

interface Workload {
  packages: MatchPackage[];
  records: CandidateRecord[];
  distribution: FoundDistribution;
}

/**
 * An image of 500 packages — 320 Debian bookworm binaries from 200 source packages (epochs, `~`
 * and `+debNuM` versions), 80 npm, 60 PyPI and 40 Go modules — and the candidate records a
 * vulnerability table returns for them: Debian tracker-style records keyed by source (fixed below
 * or above the installed version, not fixed with no-dsa notes, will not fix, not affected; a few
 * sources with hundreds, like the kernel), and OSV-style records with one to three ranges per
 * language package.
 */
function workload(): Workload {
  const rnd = random(20240601);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const int = (n: number): number => Math.floor(rnd() * n);
  const name = (parts: number): string => Array.from({ length: parts }, () => pick(SYLLABLES)).join('');
  const packages: MatchPackage[] = [];
  const records: CandidateRecord[] = [];
  let id = 0;
  let cve = 10000;
  const record = (r: Omit<CandidateRecord, 'id' | 'aliases' | 'repository' | 'module' | 'arch' | 'cvss' | 'description' | 'publishedAt' | 'modifiedAt'> & Partial<CandidateRecord>): void => {
    records.push({ aliases: [], repository: null, module: null, arch: null, cvss: [], description: null, publishedAt: null, modifiedAt: null, id: ++id, ...r });
  };

  // Debian: 200 sources, 320 binaries
  const sources: Array<{ name: string; version: string }> = [];
  const sourceNames = new Set<string>();
  while (sources.length < 200) {
    const n = `${name(1 + int(2))}${int(3) === 0 ? String(1 + int(9)) : ''}`;
    if (sourceNames.has(n)) continue;
    sourceNames.add(n);
    const upstream = `${int(5)}.${int(20)}.${int(30)}`;
    const epoch = int(8) === 0 ? `${1 + int(3)}:` : '';
    const rev = int(4) === 0 ? `-${1 + int(5)}+deb12u${1 + int(4)}` : int(5) === 0 ? `-${1 + int(3)}~deb12u1` : `-${1 + int(6)}`;
    sources.push({ name: n, version: `${epoch}${upstream}${rev}` });
  }
  sources[0] = { name: 'linux', version: '6.1.94-1' };
  for (let i = 0; i < 320; i++) {
    const src = i < sources.length ? sources[i]! : pick(sources);
    const binary = i === 0 ? 'linux-image-6.1.0-23-amd64' : i < sources.length ? src.name : `${src.name}-${pick(['dev', 'common', 'bin', 'data', 'utils'])}${int(3)}`;
    const binNmu = int(10) === 0 ? `+b${1 + int(2)}` : '';
    packages.push({ id: i + 1, ecosystem: 'dpkg', name: binary, version: src.version + binNmu, sourceName: src.name, sourceVersion: src.version, arch: 'amd64', vendor: 'Debian Maintainers <pkg@lists.debian.org>', path: 'var/lib/dpkg/status', introducedIn: null });
  }
  packages[319] = { ...packages[319]!, name: 'linux-libc-dev', sourceName: 'linux', version: '6.1.94-1', sourceVersion: '6.1.94-1' };
  const bump = (v: string, up: boolean): string => (up ? `${v}.1` : v.replace(/-(\d+)/, (_m, d: string) => `-${Math.max(0, Number(d) - 1)}`));
  for (const src of sources) {
    const count = src.name === 'linux' ? 1500 : 12 + int(44);
    for (let k = 0; k < count; k++) {
      const roll = rnd();
      const [urgency, severity] = pick(SEVERITY_WORDS);
      let state: FindingState = 'fixed';
      let fixedVersion: string | null = bump(src.version, rnd() < 0.3);
      let stateReason: string | null = null;
      if (roll < 0.1) [state, fixedVersion] = ['not_affected', null];
      else if (roll < 0.3) [state, fixedVersion, stateReason] = ['not_fixed', null, 'no-dsa: Minor issue'];
      else if (roll < 0.35) [state, fixedVersion, stateReason] = ['will_not_fix', null, 'ignored: Minor issue'];
      record({ updater: 'debian', name: `CVE-20${10 + int(15)}-${cve++}`, ecosystem: 'dpkg', distribution: 'debian:bookworm', packageName: src.name, packageKind: 'source', affectedRange: null, fixedVersion, state, stateReason, vendorSeverity: urgency, normalizedSeverity: severity, severitySource: 'vendor', links: [] });
    }
  }

  // Language packages with OSV-style ranges
  const languages: Array<['npm' | 'pypi' | 'go', number]> = [['npm', 80], ['pypi', 60], ['go', 40]];
  for (const [ecosystem, count] of languages) {
    for (let i = 0; i < count; i++) {
      const n = ecosystem === 'go' ? `github.com/${name(1)}/${name(2)}` : `${name(2)}-${i}`;
      const version = `${int(4)}.${int(15)}.${int(20)}`;
      packages.push({ id: packages.length + 1, ecosystem, name: n, version: ecosystem === 'go' ? `v${version}` : version, path: `app/${ecosystem}/${n}`, introducedIn: null });
      for (let k = 0, advisories = 5 + int(20); k < advisories; k++) {
        const events: RangeEvent[] = [];
        for (let r = 0, ranges = 1 + int(3), major = 0; r < ranges; r++, major += 1 + int(2)) {
          events.push({ introduced: r === 0 && int(2) === 0 ? '0' : `${major}.${int(5)}.0` }, { fixed: `${major + int(2)}.${int(15)}.${int(20)}` });
        }
        const ghsa = `GHSA-${cve.toString(36)}-${k}x`;
        record({ updater: `osv-${ecosystem}`, name: ghsa, aliases: [`CVE-2023-${cve++}`], ecosystem, distribution: null, packageName: n, packageKind: 'binary', affectedRange: { events }, fixedVersion: null, state: 'fixed', stateReason: null, vendorSeverity: 'MODERATE', normalizedSeverity: 'Medium', severitySource: 'vendor', links: [`https://github.com/advisories/${ghsa}`] });
      }
    }
  }
  return { packages, records, distribution: { did: 'debian', versionId: '12', versionCodename: 'bookworm', path: 'etc/os-release' } };
}

function percentile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[i]! * 100) / 100;
}

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
