import type { FindingState, Severity, VulnerabilityRecord } from '../vulnerability-record.ts';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import { selectJson } from './select-json.ts';

/** Options of {@link parseDebianTracker}. */
export interface DebianTrackerOptions {
  /** Release codenames to keep (`bookworm`, …); entries of other releases are skipped. */
  releases: ReadonlySet<string>;
  /** The `updater` field of the records. Default `debian`. */
  updater?: string;
}

const WHAT = 'Debian security tracker JSON';
const MAX_DESCRIPTION = 8192;
const PACKAGE = /^[a-z0-9][a-z0-9+.-]*$/;
const VULN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const VERSION = /^[A-Za-z0-9.+~:-]{1,128}$/;

/**
 * Debian urgency → normalized severity, without shifting (Clair shifts each up one step).
 * `unimportant` is Negligible: Debian uses it for issues that do not affect the built packages in
 * practice or have negligible impact. A trailing `*`/`**` (an urgency the tracker carried over
 * rather than one the security team set) does not change the level.
 */
export function debianUrgencySeverity(urgency: string | null): Severity {
  switch ((urgency ?? '').replace(/\*+$/, '').trim().toLowerCase()) {
    case 'unimportant':
      return 'Negligible';
    case 'low':
      return 'Low';
    case 'medium':
      return 'Medium';
    case 'high':
      return 'High';
    default: // not yet assigned, unknown, end-of-life, empty
      return 'Unknown';
  }
}

/** The state of one release entry of the tracker, with the vendor's words kept in `stateReason`. */
export function debianState(entry: { status?: unknown; fixed_version?: unknown; urgency?: unknown; nodsa?: unknown; nodsa_reason?: unknown }): {
  state: FindingState;
  fixedVersion: string | null;
  stateReason: string | null;
} {
  const status = typeof entry.status === 'string' ? entry.status : '';
  const fixed = typeof entry.fixed_version === 'string' ? entry.fixed_version.trim() : '';
  const urgency = typeof entry.urgency === 'string' ? entry.urgency : '';
  if (status === 'resolved') {
    if (fixed === '0') return { state: 'not_affected', fixedVersion: null, stateReason: null };
    if (fixed === '') return { state: 'not_affected', fixedVersion: null, stateReason: 'resolved without a fixed version' };
    return { state: 'fixed', fixedVersion: fixed, stateReason: null };
  }
  if (status === 'open') {
    if (urgency === 'end-of-life') return { state: 'end_of_life', fixedVersion: null, stateReason: 'end-of-life' };
    const note = typeof entry.nodsa === 'string' ? entry.nodsa.trim() : null;
    const reason = typeof entry.nodsa_reason === 'string' ? entry.nodsa_reason.trim() : '';
    const words = (label: string): string => (note ? `${label}: ${note}` : label);
    if (reason === 'ignored') return { state: 'will_not_fix', fixedVersion: null, stateReason: words('ignored') };
    if (reason === 'postponed') return { state: 'fix_deferred', fixedVersion: null, stateReason: words('postponed') };
    if (note !== null) return { state: 'not_fixed', fixedVersion: null, stateReason: words('no-dsa') };
    return { state: 'not_fixed', fixedVersion: null, stateReason: null };
  }
  if (status === 'undetermined') return { state: 'under_investigation', fixedVersion: null, stateReason: 'undetermined' };
  return { state: 'under_investigation', fixedVersion: null, stateReason: status === '' ? 'no status' : status };
}

/**
 * Parses the Debian security tracker JSON (`{source package: {vulnerability: {description,
 * releases: {codename: {status, fixed_version, urgency, nodsa, nodsa_reason}}}}}`), streaming one
 * vulnerability at a time. Yields one record per (source package, vulnerability, kept release):
 * ecosystem `dpkg`, packageKind `source`, distribution `debian:<codename>`.
 *
 * States: resolved with a version → fixed; resolved with `0` → not_affected; open → not_fixed
 * (stateReason `no-dsa: …` when the team decided no advisory is needed); `ignored` → will_not_fix;
 * `postponed` → fix_deferred; urgency `end-of-life` → end_of_life; undetermined →
 * under_investigation. The urgency is kept verbatim as vendorSeverity.
 * Throws {@link FeedParseError} on malformed JSON or an entry of the wrong shape.
 */
export async function* parseDebianTracker(input: AsyncIterable<Buffer | string>, options: DebianTrackerOptions): AsyncGenerator<VulnerabilityRecord> {
  const updater = options.updater ?? 'debian';
  for await (const { path, value } of selectJson(input, { what: WHAT, select: (p) => p.length === 2 })) {
    const [pkg, vuln] = path as [string, string];
    if (typeof pkg !== 'string' || typeof vuln !== 'string') throw new FeedParseError(`${WHAT}: the top level is not an object of objects`);
    if (!PACKAGE.test(pkg)) throw new FeedParseError(`${WHAT}: ${JSON.stringify(pkg.slice(0, 100))} is not a Debian source package name`);
    if (!VULN.test(vuln)) throw new FeedParseError(`${WHAT}: ${JSON.stringify(vuln.slice(0, 100))} (package ${pkg}) is not a vulnerability name`);
    if (!isObject(value)) throw new FeedParseError(`${WHAT}: ${pkg} ${vuln} is not an object`);
    const releases = value.releases;
    if (Array.isArray(releases)) {
      if (releases.length > 0) throw new FeedParseError(`${WHAT}: ${pkg} ${vuln} has releases as a non-empty list`);
      continue;
    }
    if (releases === undefined) continue;
    if (!isObject(releases)) throw new FeedParseError(`${WHAT}: ${pkg} ${vuln} releases is not an object`);
    const description = typeof value.description === 'string' ? value.description.slice(0, MAX_DESCRIPTION) : null;
    for (const [codename, entry] of Object.entries(releases)) {
      if (!options.releases.has(codename)) continue;
      if (!isObject(entry)) throw new FeedParseError(`${WHAT}: ${pkg} ${vuln} ${codename} is not an object`);
      const { state, fixedVersion, stateReason } = debianState(entry);
      if (fixedVersion !== null && !VERSION.test(fixedVersion)) {
        throw new FeedParseError(`${WHAT}: ${pkg} ${vuln} ${codename} has an invalid fixed version ${JSON.stringify(fixedVersion.slice(0, 140))}`);
      }
      const urgency = typeof entry.urgency === 'string' && entry.urgency !== '' ? entry.urgency : null;
      yield {
        updater,
        name: vuln,
        aliases: [],
        ecosystem: 'dpkg',
        distribution: `debian:${codename}`,
        repository: null,
        module: null,
        packageName: pkg,
        packageKind: 'source',
        arch: null,
        affectedRange: null,
        fixedVersion,
        state,
        stateReason,
        vendorSeverity: urgency,
        normalizedSeverity: debianUrgencySeverity(urgency),
        severitySource: urgency === null ? null : 'vendor',
        cvss: [],
        description,
        links: [`https://security-tracker.debian.org/tracker/${vuln}`],
        publishedAt: null,
        modifiedAt: null,
      };
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
