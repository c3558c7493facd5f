import { z } from 'zod';
import { distributionKey } from '../ecosystems/distribution-key.ts';
import { scoreCvssVector, severityFromCvss } from '../ecosystems/cvss/score-cvss-vector.ts';
import { findOsvEcosystem } from '../ecosystems/osv/osv-ecosystems.ts';
import { VERSION_SCHEMES, type VersionSchemeName } from '../ecosystems/version-scheme.ts';
import { VERSION_SCHEME_BY_NAME } from '../ecosystems/version-schemes.ts';
import { SEVERITIES, type AffectedRange, type CvssScore, type FindingState, type RangeEvent, type Severity, type VulnerabilityRecord } from '../ecosystems/vulnerability-record.ts';
import { BadRequestError } from '../errors/app-error.ts';
import { VULNERABILITY_ID } from '../vex/parsed-vex.ts';
import { unionRanges } from './range-union.ts';

/** The updater name of operator advisories in `vulnerabilities` (and so a finding's `source.updater`). */
export const CUSTOM_UPDATER = 'custom';

/** Package formats whose advisories belong to a distribution release. */
const OS_ECOSYSTEMS: ReadonlySet<string> = new Set(['apk', 'dpkg', 'rpm']);

/** Distributions whose packages are of each OS package format (others are accepted as the operator names them). */
const DISTRIBUTIONS: Readonly<Record<string, readonly string[]>> = {
  apk: ['alpine', 'wolfi', 'chainguard'],
  dpkg: ['debian', 'ubuntu'],
  rpm: ['rhel', 'centos', 'rocky', 'almalinux', 'ol', 'amzn', 'sles', 'opensuse-leap', 'opensuse-tumbleweed', 'photon', 'fedora', 'mariner', 'azurelinux'],
};

/** States an affected entry may state instead of versions (nothing fixes it yet). */
const NO_FIX_STATES = ['not_fixed', 'will_not_fix', 'fix_deferred', 'end_of_life', 'under_investigation'] as const;

const MAX_AFFECTED = 100;
const MAX_EVENTS = 1024;
const version = z.string().trim().min(1).max(256);
const event = z.union([
  z.strictObject({ introduced: version }),
  z.strictObject({ fixed: version }),
  z.strictObject({ last_affected: version }),
  z.strictObject({ limit: version }),
]);

const affectedSchema = z.strictObject({
  /** Version scheme / package format: apk, dpkg, rpm, pypi, npm, go, maven, gem. */
  ecosystem: z.enum(VERSION_SCHEMES),
  /** For apk, dpkg and rpm: the release (`alpine:3.19`, `debian:bookworm` or `debian:12`, `rhel:9`). */
  distribution: z.string().trim().min(3).max(64).optional(),
  package: z.string().trim().min(1).max(512).regex(/^[^\s\u0000-\u001f]+$/, 'a package name without spaces'),
  /** `source` matches packages built from that source (default for apk, dpkg, rpm); `binary` the package name itself. */
  packageKind: z.enum(['binary', 'source']).optional(),
  arch: z.string().trim().min(1).max(64).optional(),
  repository: z.string().trim().min(1).max(512).optional(),
  module: z.string().trim().min(1).max(128).optional(),
  /** Affected versions as OSV ranges (`{"events": [{"introduced": "0"}, {"fixed": "1.2.3-r0"}]}`). */
  ranges: z.array(z.strictObject({ events: z.array(event).min(1).max(MAX_EVENTS) })).min(1).max(16).optional(),
  /** Shorthand: every version before this one is affected. */
  fixedVersion: version.optional(),
  /** No version fixes it (yet): the state it is in; every installed version is affected. */
  state: z.enum(NO_FIX_STATES).optional(),
});

/** What an operator sends to add or change an advisory (`POST/PUT /api/v1/advisories`, `lookout advisories add`). */
export const advisorySchema = z.strictObject({
  id: z.string().trim().regex(VULNERABILITY_ID, 'letters, digits, . _ : - (at most 128), starting with a letter or digit'),
  aliases: z.array(z.string().trim().regex(VULNERABILITY_ID, 'an advisory id')).max(50).default([]),
  summary: z.string().trim().min(1).max(512).optional(),
  description: z.string().trim().min(1).max(8192).optional(),
  /** Unknown, Negligible, Low, Medium, High or Critical (any case); from `cvss` when absent. */
  severity: z.string().trim().min(1).max(32).optional(),
  /** CVSS vectors (v2, v3.x, v4). */
  cvss: z.array(z.string().trim().min(1).max(512)).max(4).default([]),
  links: z.array(z.string().trim().max(2048)).max(32).default([]),
  published: z.iso.datetime({ offset: true }).optional(),
  affected: z.array(affectedSchema).min(1).max(MAX_AFFECTED),
});

/** The advisory input as sent. */
export type AdvisoryInput = z.input<typeof advisorySchema>;

/** One affected package of a checked advisory. */
export interface AdvisoryAffected {
  ecosystem: VersionSchemeName;
  /** The release key feeds use (`debian:bookworm`), null for language ecosystems. */
  distribution: string | null;
  /** As records of the ecosystem key it (PEP 503 for PyPI, `group:artifact` for Maven). */
  package: string;
  packageKind: 'binary' | 'source';
  arch: string | null;
  repository: string | null;
  module: string | null;
  ranges: Array<{ events: RangeEvent[] }> | null;
  fixedVersion: string | null;
  state: (typeof NO_FIX_STATES)[number] | null;
}

/** A checked, normalized advisory: what `custom_advisories.advisory` stores. */
export interface AdvisoryDocument {
  id: string;
  aliases: string[];
  summary: string | null;
  description: string | null;
  severity: Severity;
  /** Where `severity` came from: the operator (`custom`) or the CVSS vector (`cvss`); null for Unknown. */
  severitySource: string | null;
  cvss: CvssScore[];
  links: string[];
  published: string | null;
  affected: AdvisoryAffected[];
}

/** Thrown for an advisory that fails validation: a 400 naming the field (`affected.0.ranges.0.events.1.fixed: …`). */
export class InvalidAdvisoryError extends BadRequestError {
  constructor(message: string) {
    super(`invalid advisory: ${message}`, { code: 'invalid_advisory' });
  }
}

function path(parts: ReadonlyArray<string | number | symbol>): string {
  return parts.map(String).join('.') || 'body';
}

/**
 * Checks an advisory as an operator sends it and normalizes it: the id and aliases are advisory
 * ids; the severity is a known one (else taken from the CVSS vectors, which must parse); links
 * are http(s) URLs; each affected package names a known version scheme, a release for OS
 * package formats (normalized to the key feeds use: `debian:12` → `debian:bookworm`, `alpine:3.19.1`
 * → `alpine:3.19`; the distribution must be one of that format's when known) and none for
 * language ecosystems, and exactly one of `ranges`, `fixedVersion` or a no-fix `state`; every
 * version is valid in the scheme, and each range opens before it closes. The same package twice
 * is refused. Throws {@link InvalidAdvisoryError} with the path of the first problem.
 */
export function checkAdvisory(body: unknown): AdvisoryDocument {
  const parsed = advisorySchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidAdvisoryError(`${path(issue.path)}: ${issue.message}`);
  }
  const input = parsed.data;
  const id = canonicalId(input.id);
  let severity: Severity = 'Unknown';
  let severitySource: string | null = null;
  const cvss: CvssScore[] = input.cvss.map((vector, i) => {
    try {
      return scoreCvssVector(vector, CUSTOM_UPDATER);
    } catch (err) {
      throw new InvalidAdvisoryError(`cvss.${i}: ${(err as Error).message}`);
    }
  });
  if (input.severity !== undefined) {
    const found = SEVERITIES.find((s) => s.toLowerCase() === input.severity!.toLowerCase());
    if (found === undefined) throw new InvalidAdvisoryError(`severity: unknown severity ${JSON.stringify(input.severity)}; valid: ${SEVERITIES.join(', ')}`);
    severity = found;
    severitySource = found === 'Unknown' ? null : CUSTOM_UPDATER;
  } else {
    const rank = (c: CvssScore): number => ({ '3.1': 0, '3.0': 1, '4.0': 2, '2.0': 3 })[c.version];
    const best = [...cvss].sort((a, b) => rank(a) - rank(b))[0];
    if (best !== undefined) {
      severity = severityFromCvss(best);
      severitySource = 'cvss';
    }
  }
  input.links.forEach((l, i) => {
    if (!/^https?:\/\/\S+$/.test(l) || !URL.canParse(l)) throw new InvalidAdvisoryError(`links.${i}: must be an http(s) URL`);
  });
  const seen = new Map<string, number>();
  const affected = input.affected.map((a, i): AdvisoryAffected => {
    const at = `affected.${i}`;
    const scheme = VERSION_SCHEME_BY_NAME[a.ecosystem];
    const os = OS_ECOSYSTEMS.has(a.ecosystem);
    let distribution: string | null = null;
    if (os) {
      if (a.distribution === undefined) throw new InvalidAdvisoryError(`${at}.distribution: required for ${a.ecosystem} packages (e.g. ${a.ecosystem === 'apk' ? 'alpine:3.19' : a.ecosystem === 'dpkg' ? 'debian:bookworm' : 'rhel:9'})`);
      distribution = releaseKey(a.distribution, a.ecosystem, `${at}.distribution`);
    } else if (a.distribution !== undefined) {
      throw new InvalidAdvisoryError(`${at}.distribution: ${a.ecosystem} packages belong to no distribution release`);
    }
    if (a.module !== undefined && a.ecosystem !== 'rpm') throw new InvalidAdvisoryError(`${at}.module: only rpm packages have module streams`);
    const given = [a.ranges !== undefined, a.fixedVersion !== undefined, a.state !== undefined].filter(Boolean).length;
    if (given !== 1) throw new InvalidAdvisoryError(`${at}: give exactly one of ranges, fixedVersion, or a state saying no version fixes it`);
    const valid = (v: string, where: string) => {
      if (!scheme.isValid(v)) throw new InvalidAdvisoryError(`${where}: ${JSON.stringify(v)} is not a valid ${a.ecosystem} version`);
    };
    if (a.fixedVersion !== undefined) valid(a.fixedVersion, `${at}.fixedVersion`);
    const ranges = a.ranges?.map((r, j) => {
      const events = r.events as RangeEvent[];
      events.forEach((e, k) => {
        const [kind, v] = Object.entries(e)[0]!;
        if (!(kind === 'introduced' && v === '0')) valid(v, `${at}.ranges.${j}.events.${k}.${kind}`);
      });
      checkRangeOrder(events, scheme.compare.bind(scheme), `${at}.ranges.${j}.events`);
      return { events };
    }) ?? null;
    const packageName = normalizePackage(a.ecosystem, a.package);
    const kind = a.packageKind ?? (os ? 'source' : 'binary');
    const key = [a.ecosystem, distribution, packageName, kind, a.arch ?? '', a.repository ?? '', a.module ?? ''].join('\u0000');
    const first = seen.get(key);
    if (first !== undefined) throw new InvalidAdvisoryError(`${at}: names the same package as affected.${first}; put all its ranges in one entry`);
    seen.set(key, i);
    return {
      ecosystem: a.ecosystem,
      distribution,
      package: packageName,
      packageKind: kind,
      arch: a.arch ?? null,
      repository: a.repository ?? null,
      module: a.module ?? null,
      ranges,
      fixedVersion: a.fixedVersion ?? null,
      state: a.state ?? null,
    };
  });
  return {
    id,
    aliases: [...new Set(input.aliases.map(canonicalId).filter((a) => a !== id))],
    summary: input.summary ?? null,
    description: input.description ?? null,
    severity,
    severitySource,
    cvss,
    links: [...new Set(input.links)],
    published: input.published ? new Date(input.published).toISOString() : null,
    affected,
  };
}

function canonicalId(id: string): string {
  return /^cve-/i.test(id) ? id.toUpperCase() : id;
}

function normalizePackage(ecosystem: string, name: string): string {
  return findOsvEcosystem(ecosystem)?.normalize(name) ?? name;
}

/** `did:release` as the release key feeds and the matcher use, checked against the package format. */
function releaseKey(text: string, ecosystem: string, where: string): string {
  const m = /^([a-z][a-z0-9._-]*):([A-Za-z0-9._-]+)$/.exec(text.trim());
  if (m === null) throw new InvalidAdvisoryError(`${where}: ${JSON.stringify(text)} is not a release: distribution id and release, like alpine:3.19 or debian:bookworm`);
  const did = m[1]!;
  const release = m[2]!;
  const known = Object.entries(DISTRIBUTIONS).find(([, dids]) => dids.includes(did));
  if (known !== undefined && known[0] !== ecosystem) throw new InvalidAdvisoryError(`${where}: ${did} packages are ${known[0]} packages, not ${ecosystem}`);
  const numeric = /^\d+(\.\d+)*$/.test(release) || release === 'edge';
  const key = distributionKey(numeric ? { did, versionId: release } : { did, versionCodename: release });
  if (key === null) throw new InvalidAdvisoryError(`${where}: ${JSON.stringify(text)} names no release Lookout knows (for ${did}, a version like ${did === 'alpine' ? '3.19' : '12'} or a codename)`);
  return key;
}

/**
 * Checks that a range, its events sorted by version, opens something, never closes (fixed,
 * last_affected) what was not opened (introduced) and never opens what is open.
 */
function checkRangeOrder(events: readonly RangeEvent[], compare: (a: string, b: string) => number, where: string): void {
  const list = events.map((e) => {
    const [kind, v] = Object.entries(e)[0]! as [string, string];
    return { kind, v, zero: kind === 'introduced' && v === '0' };
  });
  if (!list.some((e) => e.kind === 'introduced')) throw new InvalidAdvisoryError(`${where}: a range needs an introduced event ("0" for every version from the first)`);
  const order: Record<string, number> = { introduced: 0, last_affected: 1, fixed: 2, limit: 3 };
  list.sort((a, b) => (a.zero || b.zero ? (a.zero === b.zero ? 0 : a.zero ? -1 : 1) : compare(a.v, b.v) || order[a.kind]! - order[b.kind]!));
  let open = false;
  for (const e of list) {
    if (e.kind === 'limit') continue;
    if (e.kind === 'introduced') {
      if (open) throw new InvalidAdvisoryError(`${where}: introduced ${JSON.stringify(e.v)} opens a range that is already open`);
      open = true;
    } else if (!open) {
      throw new InvalidAdvisoryError(`${where}: ${e.kind} ${JSON.stringify(e.v)} closes no range (no introduced version at or below it)`);
    } else {
      open = false;
    }
  }
}

/**
 * The vulnerability records of an advisory (updater `custom`), one per affected package, in the
 * same shape as feed data: OSV events (several ranges of one package joined into one event list
 * covering their union), `fixedVersion` the fixed events (or the shorthand), state `fixed` when
 * a fix exists.
 */
export function advisoryRecords(doc: AdvisoryDocument, times: { createdAt: string; updatedAt: string }): VulnerabilityRecord[] {
  return doc.affected.map((a) => {
    const scheme = VERSION_SCHEME_BY_NAME[a.ecosystem];
    const events = a.ranges === null ? null : a.ranges.length === 1 ? a.ranges[0]!.events : unionRanges(a.ranges.map((r) => r.events), (x, y) => scheme.compare(x, y));
    const fixed = events?.flatMap((e) => ('fixed' in e ? [e.fixed] : [])) ?? (a.fixedVersion !== null ? [a.fixedVersion] : []);
    const affectedRange: AffectedRange | null = events === null ? null : { events };
    const state: FindingState = a.state ?? (fixed.length > 0 ? 'fixed' : 'not_fixed');
    return {
      updater: CUSTOM_UPDATER,
      name: doc.id,
      aliases: doc.aliases,
      ecosystem: a.ecosystem,
      distribution: a.distribution,
      repository: a.repository,
      module: a.module,
      packageName: a.package,
      packageKind: a.packageKind,
      arch: a.arch,
      affectedRange,
      fixedVersion: fixed.length === 0 ? null : fixed.join(', '),
      state,
      stateReason: null,
      vendorSeverity: doc.severitySource === CUSTOM_UPDATER ? doc.severity : null,
      normalizedSeverity: doc.severity,
      severitySource: doc.severitySource,
      cvss: doc.cvss,
      description: doc.description ?? doc.summary,
      links: doc.links,
      publishedAt: doc.published ?? times.createdAt,
      modifiedAt: times.updatedAt,
    };
  });
}
