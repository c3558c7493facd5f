import { scoreCvssVector } from '../ecosystems/cvss/score-cvss-vector.ts';
import { findOsvEcosystem } from '../ecosystems/osv/osv-ecosystems.ts';
import { VERSION_SCHEMES, type VersionSchemeName } from '../ecosystems/version-scheme.ts';
import type { RangeEvent } from '../ecosystems/vulnerability-record.ts';
import { arrayAt, isJsonObject, objectAt, optionalString, requiredString, type JsonObject } from '../vex/json-read.ts';
import { vulnerabilityId } from '../vex/parsed-vex.ts';
import { pointerAt, VexDocumentError } from '../vex/vex-document-error.ts';
import type { AdvisoryInput } from './advisory-document.ts';

/** What one OSV document asks for: an advisory to add or change, or (withdrawn) one to withdraw. */
export type OsvAdvisory = { kind: 'advisory'; input: AdvisoryInput } | { kind: 'withdrawn'; id: string; withdrawn: string };

const GHSA_SEVERITY: Readonly<Record<string, string>> = { LOW: 'Low', MODERATE: 'Medium', MEDIUM: 'Medium', HIGH: 'High', CRITICAL: 'Critical' };
const WORD_SEVERITY: Readonly<Record<string, string>> = { negligible: 'Negligible', low: 'Low', medium: 'Medium', moderate: 'Medium', high: 'High', important: 'High', critical: 'Critical' };
const MAX_LINKS = 32;

interface Release {
  ecosystem: string;
  distribution: string | null;
  packageKind?: 'binary' | 'source';
}

/**
 * Which Lookout ecosystem and release an OSV `package.ecosystem` names: the language ecosystems
 * Lookout reads OSV for (npm, PyPI, Go, Maven, RubyGems), `Alpine:v3.19`, `Debian:12`,
 * `Ubuntu[:Pro]:22.04[:LTS]`, `Rocky Linux:9`, `AlmaLinux:9`, `Red Hat:…:9…`, `Wolfi`, `Chainguard`;
 * null for anything else (crates.io has no version scheme here).
 */
export function osvRelease(ecosystem: string): Release | null {
  const [base = '', ...rest] = ecosystem.split(':');
  const language = findOsvEcosystem(base);
  if (language !== undefined) return (VERSION_SCHEMES as readonly string[]).includes(language.ecosystem) ? { ecosystem: language.ecosystem, distribution: null } : null;
  const version = rest.find((r) => /^v?\d+(\.\d+)*$/.test(r))?.replace(/^v/, '');
  switch (base) {
    case 'Alpine':
      return version ? { ecosystem: 'apk', distribution: `alpine:${version}` } : null;
    case 'Debian':
      return version ? { ecosystem: 'dpkg', distribution: `debian:${version}`, packageKind: 'source' } : null;
    case 'Ubuntu':
      return version ? { ecosystem: 'dpkg', distribution: `ubuntu:${version}`, packageKind: 'source' } : null;
    case 'Rocky Linux':
      return version ? { ecosystem: 'rpm', distribution: `rocky:${version.split('.')[0]}` } : null;
    case 'AlmaLinux':
      return version ? { ecosystem: 'rpm', distribution: `almalinux:${version.split('.')[0]}` } : null;
    case 'Red Hat': {
      const major = rest.map((r) => /^(\d+)/.exec(r)?.[1]).find((m) => m !== undefined);
      return major ? { ecosystem: 'rpm', distribution: `rhel:${major}` } : null;
    }
    case 'Wolfi':
      return { ecosystem: 'apk', distribution: 'wolfi:rolling' };
    case 'Chainguard':
      return { ecosystem: 'apk', distribution: 'chainguard:rolling' };
    default:
      return null;
  }
}

/**
 * Turns one OSV record (the OSV schema, as osv.dev and GitHub publish it) into an advisory to
 * check: id, aliases, summary and details, severity (GitHub's rating, an Ubuntu priority, else
 * from the CVSS vectors that parse), reference URLs, and per affected package its ECOSYSTEM and
 * SEMVER ranges (GIT ranges are ignored; without one, an explicit `versions` list becomes one
 * range per version). Affected entries of one package are merged. A record withdrawn at or
 * before `now` asks for a withdrawal. An ecosystem Lookout cannot match, or a record without
 * any usable affected package, is a {@link VexDocumentError} at its JSON pointer.
 */
export function osvAdvisory(doc: unknown, now: Date): OsvAdvisory {
  const root = objectAt(doc, '', 'an OSV record (a JSON object)');
  const idText = requiredString(root, 'id', '', 128);
  const id = vulnerabilityId(idText);
  if (id === null) throw new VexDocumentError(`${JSON.stringify(idText)} is not an advisory id`, { pointer: '/id' }, { code: 'invalid_advisory' });
  const withdrawn = optionalString(root, 'withdrawn', '', 64);
  if (withdrawn !== null) {
    const at = Date.parse(withdrawn);
    if (!Number.isFinite(at)) throw new VexDocumentError(`${JSON.stringify(withdrawn)} is not a date and time`, { pointer: '/withdrawn' }, { code: 'invalid_advisory' });
    if (at <= now.getTime()) return { kind: 'withdrawn', id, withdrawn: new Date(at).toISOString() };
  }
  const aliases = root.aliases === undefined ? [] : arrayAt(root.aliases, '/aliases', { max: 200 }).map(vulnerabilityId).filter((a): a is string => a !== null && a !== id).slice(0, 50);
  const summary = optionalString(root, 'summary', '', 100_000)?.slice(0, 512) ?? undefined;
  const details = optionalString(root, 'details', '', 1_000_000)?.slice(0, 8192) ?? undefined;
  const links = (root.references === undefined ? [] : arrayAt(root.references, '/references'))
    .map((r) => (isJsonObject(r) && typeof r.url === 'string' ? r.url.trim() : ''))
    .filter((u) => /^https?:\/\/\S+$/.test(u) && u.length <= 2048 && URL.canParse(u));

  const severities = [...(root.severity === undefined ? [] : arrayAt(root.severity, '/severity'))];
  const affectedList = arrayAt(root.affected, '/affected', { what: 'a list of affected packages', min: 1, max: 10_000 });
  let word: string | undefined;
  const dbSpecific = isJsonObject(root.database_specific) ? root.database_specific : {};
  if (typeof dbSpecific.severity === 'string') word = GHSA_SEVERITY[dbSpecific.severity.trim().toUpperCase()];
  const merged = new Map<string, { ecosystem: VersionSchemeName; distribution?: string; package: string; packageKind?: 'binary' | 'source'; ranges: Array<{ events: RangeEvent[] }> }>();
  affectedList.forEach((raw, i) => {
    const at = pointerAt('/affected', i);
    const a = objectAt(raw, at, 'an affected package object');
    const pkg = objectAt(a.package, pointerAt(at, 'package'));
    const ecosystem = requiredString(pkg, 'ecosystem', pointerAt(at, 'package'), 128);
    const name = requiredString(pkg, 'name', pointerAt(at, 'package'), 512);
    const release = osvRelease(ecosystem);
    if (release === null) throw new VexDocumentError(`OSV ecosystem ${JSON.stringify(ecosystem)} is not one Lookout matches (npm, PyPI, Go, Maven, RubyGems, Alpine, Debian, Ubuntu, Rocky Linux, AlmaLinux, Red Hat, Wolfi, Chainguard)`, { pointer: pointerAt(pointerAt(at, 'package'), 'ecosystem') }, { code: 'invalid_advisory' });
    if (isJsonObject(a.ecosystem_specific) && typeof a.ecosystem_specific.severity === 'string') word ??= WORD_SEVERITY[a.ecosystem_specific.severity.trim().toLowerCase()];
    for (const s of Array.isArray(a.severity) ? a.severity : []) severities.push(s);
    const ranges: Array<{ events: RangeEvent[] }> = [];
    if (a.ranges !== undefined) {
      arrayAt(a.ranges, pointerAt(at, 'ranges')).forEach((r, j) => {
        const rAt = pointerAt(pointerAt(at, 'ranges'), j);
        const range = objectAt(r, rAt);
        const type = requiredString(range, 'type', rAt, 32);
        if (type !== 'ECOSYSTEM' && type !== 'SEMVER') return;
        const events = arrayAt(range.events, pointerAt(rAt, 'events'), { min: 1, max: 1024 }).map((e, k) => {
          const eAt = pointerAt(pointerAt(rAt, 'events'), k);
          const o = objectAt(e, eAt);
          const keys = Object.keys(o);
          if (keys.length !== 1 || !['introduced', 'fixed', 'last_affected', 'limit'].includes(keys[0]!) || typeof o[keys[0]!] !== 'string') {
            throw new VexDocumentError('an event is one of {"introduced"|"fixed"|"last_affected"|"limit": "<version>"}', { pointer: eAt }, { code: 'invalid_advisory' });
          }
          return { [keys[0]!]: o[keys[0]!] as string } as RangeEvent;
        });
        ranges.push({ events });
      });
    }
    if (ranges.length === 0 && a.versions !== undefined) {
      const versions = [...new Set(arrayAt(a.versions, pointerAt(at, 'versions'), { max: 512 }).filter((v): v is string => typeof v === 'string' && v.trim() !== ''))];
      if (versions.length > 0) ranges.push({ events: versions.flatMap((v): RangeEvent[] => [{ introduced: v }, { last_affected: v }]) });
    }
    if (ranges.length === 0) throw new VexDocumentError('no ECOSYSTEM or SEMVER range and no versions list', { pointer: at }, { code: 'invalid_advisory' });
    const key = `${release.ecosystem}\u0000${release.distribution ?? ''}\u0000${name}`;
    const entry = merged.get(key);
    if (entry) {
      entry.ranges.push(...ranges);
    } else {
      merged.set(key, {
        ecosystem: release.ecosystem as VersionSchemeName,
        ...(release.distribution !== null ? { distribution: release.distribution } : {}),
        package: name,
        ...(release.packageKind ? { packageKind: release.packageKind } : {}),
        ranges,
      });
    }
  });

  const cvss = [...new Set(severities.flatMap((s) => (isJsonObject(s) && typeof s.type === 'string' && s.type.startsWith('CVSS') && typeof s.score === 'string' ? [s.score] : [])))].filter(parses).slice(0, 4);
  for (const s of severities) if (word === undefined && isJsonObject(s) && typeof s.type === 'string' && !s.type.startsWith('CVSS') && typeof s.score === 'string') word = WORD_SEVERITY[s.score.trim().toLowerCase()];
  const published = optionalString(root, 'published', '', 64);
  const input: AdvisoryInput = {
    id,
    aliases,
    ...(summary ? { summary } : {}),
    ...(details ? { description: details } : {}),
    ...(word ? { severity: word } : {}),
    cvss,
    links: [...new Set(links)].slice(0, MAX_LINKS),
    ...(published && Number.isFinite(Date.parse(published)) && !published.startsWith('0001-') ? { published: new Date(published).toISOString() } : {}),
    affected: [...merged.values()].slice(0, 100),
  };
  return { kind: 'advisory', input };
}

function parses(vector: string): boolean {
  try {
    scoreCvssVector(vector);
    return true;
  } catch {
    return false;
  }
}

/** Whether a parsed JSON value looks like an OSV record. */
export function isOsvRecord(doc: unknown): doc is JsonObject {
  return isJsonObject(doc) && typeof doc.id === 'string' && (Array.isArray(doc.affected) || typeof doc.withdrawn === 'string' || typeof doc.schema_version === 'string');
}
