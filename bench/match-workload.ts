import type { FoundDistribution } from '../src/ecosystems/scanner.ts';
import type { FindingState, RangeEvent, Severity } from '../src/ecosystems/vulnerability-record.ts';
import type { CandidateRecord, MatchPackage } from '../src/matcher/match-input.ts';

/** A small seeded generator (mulberry32), so every run matches the same image against the same records. */
export function random(seed: number): () => number {
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

export interface Workload {
  packages: MatchPackage[];
  records: CandidateRecord[];
  distribution: FoundDistribution;
}

/**
 * How many advisories the image's packages have, and how many apply:
 * - `stress`: every source has 12–55 Debian records (the kernel 1,500), a third of them open or
 *   fixed above the installed version, and 5–24 OSV records per language package: ~10,500
 *   candidates and ~6,300 findings, several times what a real image of this size shows;
 * - `typical`: the skew of the Debian tracker for a current bookworm image (most sources have a
 *   handful of records, a few have 30–150, nearly all resolved at or below the installed
 *   version; the kernel's 1,500 records reach only its header package) and 0–6 OSV records per
 *   language package: ~4,000 candidates and ~1,400 findings (most of them open, unfixed
 *   Debian issues), in the range registry scanners report for a 500-package Debian image.
 */
export type WorkloadMix = 'stress' | 'typical';

/**
 * An image of 500 packages — 320 Debian bookworm binaries from 200 source packages (epochs, `~`
 * and `+debNuM` versions), 80 npm, 60 PyPI and 40 Go modules — and the candidate records a
 * vulnerability table returns for them: Debian tracker-style records keyed by source (fixed below
 * or above the installed version, not fixed with no-dsa notes, will not fix, not affected; a few
 * sources with hundreds, like the kernel), and OSV-style records with one to three ranges per
 * language package.
 */
export function workload(mix: WorkloadMix = 'stress'): Workload {
  const typical = mix === 'typical';
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
    const count = src.name === 'linux' ? 1500 : typical ? (int(10) === 0 ? 30 + int(120) : int(8)) : 12 + int(44);
    for (let k = 0; k < count; k++) {
      const [urgency, severity] = pick(SEVERITY_WORDS);
      let state: FindingState = 'fixed';
      let fixedVersion: string | null;
      let stateReason: string | null = null;
      const roll = rnd();
      if (typical) {
        // 5% not affected, 20% open, 3% will not fix, 2% fixed above the installed version, 70% fixed at or below it
        fixedVersion = bump(src.version, roll >= 0.28 && roll < 0.3);
        if (roll < 0.05) [state, fixedVersion] = ['not_affected', null];
        else if (roll < 0.25) [state, fixedVersion, stateReason] = ['not_fixed', null, 'no-dsa: Minor issue'];
        else if (roll < 0.28) [state, fixedVersion, stateReason] = ['will_not_fix', null, 'ignored: Minor issue'];
      } else {
        fixedVersion = bump(src.version, rnd() < 0.3);
        if (roll < 0.1) [state, fixedVersion] = ['not_affected', null];
        else if (roll < 0.3) [state, fixedVersion, stateReason] = ['not_fixed', null, 'no-dsa: Minor issue'];
        else if (roll < 0.35) [state, fixedVersion, stateReason] = ['will_not_fix', null, 'ignored: Minor issue'];
      }
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
      for (let k = 0, advisories = typical ? int(7) : 5 + int(20); k < advisories; k++) {
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

