import { scoreCvssVector, severityFromCvss } from '../cvss/score-cvss-vector.ts';
import type { AffectedRange, CvssScore, RangeEvent, Severity, VulnerabilityRecord } from '../vulnerability-record.ts';
import type { OsvEcosystem } from './osv-ecosystems.ts';

/** Options of {@link osvToRecords}. */
export interface OsvMappingOptions {
  ecosystem: OsvEcosystem;
  /** Records withdrawn at or before this instant are dropped. */
  now: Date;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const MAX_DESCRIPTION = 8192;
const MAX_LINKS = 32;
const MAX_EVENTS = 4096;
const VERSION = /^\S{1,256}$/;

/** GitHub advisory severities (`database_specific.severity`) → normalized. */
const GHSA_SEVERITY: Readonly<Record<string, Severity>> = { LOW: 'Low', MODERATE: 'Medium', MEDIUM: 'Medium', HIGH: 'High', CRITICAL: 'Critical' };

/**
 * Maps one OSV record to vulnerability records of `options.ecosystem`: one per affected package
 * and per ECOSYSTEM/SEMVER range (events kept as OSV writes them; GIT ranges ignored). An affected
 * package with no such range but an explicit `versions` list gets one range holding each version
 * as `introduced v` + `last_affected v`. Returns [] for a withdrawn record (withdrawn time not
 * after `now`) or one without usable affected entries; affected entries or events of the wrong
 * shape are skipped, not fatal.
 *
 * Severity: the GitHub rating (`database_specific.severity`) when present, kept as vendorSeverity;
 * otherwise the CVSS base score of the newest v3.x vector, else v4, else v2 (severitySource
 * `cvss`). Every valid vector is listed in `cvss` with its computed score.
 */
export function osvToRecords(doc: unknown, options: OsvMappingOptions): VulnerabilityRecord[] {
  if (!isObject(doc) || typeof doc.id !== 'string' || !ID.test(doc.id)) return [];
  const id = doc.id;
  if (typeof doc.withdrawn === 'string') {
    const at = Date.parse(doc.withdrawn);
    if (!Number.isFinite(at) || at <= options.now.getTime()) return [];
  }
  const eco = options.ecosystem;
  const aliases = strings(doc.aliases).filter((a) => a !== id && ID.test(a));
  const description = text(doc.summary) ?? text(doc.details);
  const links = objects(doc.references)
    .map((r) => r.url)
    .filter((u): u is string => typeof u === 'string' && /^https?:\/\/\S+$/.test(u) && u.length <= 2048)
    .slice(0, MAX_LINKS);
  const topCvss = cvssOf(objects(doc.severity));
  const dbSpecific = isObject(doc.database_specific) ? doc.database_specific : {};
  const ghsa = typeof dbSpecific.severity === 'string' ? dbSpecific.severity.trim() : null;

  const out: VulnerabilityRecord[] = [];
  for (const affected of objects(doc.affected)) {
    const pkg = isObject(affected.package) ? affected.package : null;
    if (pkg === null || typeof pkg.name !== 'string' || typeof pkg.ecosystem !== 'string') continue;
    if (pkg.ecosystem.split(':')[0] !== eco.osv) continue;
    const packageName = eco.normalize(pkg.name);
    if (packageName === '' || packageName.length > 512) continue;

    const affectedDb = isObject(affected.database_specific) ? affected.database_specific : {};
    const extra = typeof affectedDb.cvss === 'string' ? [{ type: 'CVSS', score: affectedDb.cvss }] : [];
    const cvss = dedupe([...cvssOf([...objects(affected.severity), ...extra]), ...topCvss]);
    const severity = pickSeverity(ghsa, cvss);

    const ranges: AffectedRange[] = [];
    for (const range of objects(affected.ranges)) {
      if (range.type !== 'ECOSYSTEM' && range.type !== 'SEMVER') continue;
      const events = rangeEvents(range.events);
      if (events !== null) ranges.push({ events });
    }
    if (ranges.length === 0) {
      const versions = strings(affected.versions).filter((v) => VERSION.test(v)).slice(0, MAX_EVENTS / 2);
      if (versions.length > 0) ranges.push({ events: versions.flatMap((v): RangeEvent[] => [{ introduced: v }, { last_affected: v }]) });
    }
    for (const affectedRange of ranges) {
      const fixed = affectedRange.events.flatMap((e) => ('fixed' in e ? [e.fixed] : []));
      out.push({
        updater: eco.updater,
        name: id,
        aliases,
        ecosystem: eco.ecosystem,
        distribution: null,
        repository: null,
        module: null,
        packageName,
        packageKind: 'binary',
        arch: null,
        affectedRange,
        fixedVersion: fixed.length === 0 ? null : fixed.join(', '),
        state: fixed.length === 0 ? 'not_fixed' : 'fixed',
        stateReason: null,
        ...severity,
        cvss,
        description,
        links,
        publishedAt: timestamp(doc.published),
        modifiedAt: timestamp(doc.modified),
      });
    }
  }
  return out;
}

/** The events of one range, or null when any event is malformed (the range is then skipped). */
function rangeEvents(value: unknown): RangeEvent[] | null {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_EVENTS) return null;
  const events: RangeEvent[] = [];
  for (const e of value) {
    if (!isObject(e)) return null;
    const keys = Object.keys(e);
    if (keys.length !== 1) return null;
    const key = keys[0]!;
    const v = e[key];
    if (typeof v !== 'string' || !VERSION.test(v)) return null;
    if (key === 'introduced') events.push({ introduced: v });
    else if (key === 'fixed') events.push({ fixed: v });
    else if (key === 'last_affected') events.push({ last_affected: v });
    else if (key === 'limit') events.push({ limit: v });
    else return null;
  }
  return events;
}

function pickSeverity(
  ghsa: string | null,
  cvss: CvssScore[],
): Pick<VulnerabilityRecord, 'vendorSeverity' | 'normalizedSeverity' | 'severitySource'> {
  if (ghsa !== null && GHSA_SEVERITY[ghsa.toUpperCase()] !== undefined) {
    return { vendorSeverity: ghsa, normalizedSeverity: GHSA_SEVERITY[ghsa.toUpperCase()]!, severitySource: 'vendor' };
  }
  const rank = (c: CvssScore): number => ({ '3.1': 0, '3.0': 1, '4.0': 2, '2.0': 3 })[c.version];
  const best = [...cvss].sort((a, b) => rank(a) - rank(b))[0];
  if (best !== undefined) return { vendorSeverity: null, normalizedSeverity: severityFromCvss(best), severitySource: 'cvss' };
  return { vendorSeverity: null, normalizedSeverity: 'Unknown', severitySource: null };
}

/** Scores OSV `severity` entries (`{type: CVSS_V3, score: vector}`); vectors that do not parse are dropped. */
function cvssOf(entries: ReadonlyArray<Record<string, unknown>>): CvssScore[] {
  const out: CvssScore[] = [];
  for (const e of entries) {
    if (typeof e.score !== 'string' || typeof e.type !== 'string' || !e.type.startsWith('CVSS')) continue;
    try {
      out.push(scoreCvssVector(e.score));
    } catch {
      // an unparseable vector is not worth dropping the advisory for
    }
  }
  return out;
}

function dedupe(cvss: CvssScore[]): CvssScore[] {
  const seen = new Set<string>();
  return cvss.filter((c) => !seen.has(c.vector) && (seen.add(c.vector), true));
}

/** An OSV timestamp, or null for Go's zero time or anything unparseable. */
function timestamp(v: unknown): string | null {
  if (typeof v !== 'string' || v.startsWith('0001-')) return null;
  return Number.isFinite(Date.parse(v)) ? v : null;
}

function text(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const t = v.trim();
  return t === '' ? null : t.slice(0, MAX_DESCRIPTION);
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function objects(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
