import { isAffected } from '../ecosystems/affected-range.ts';
import { VERSION_SCHEME_BY_NAME } from '../ecosystems/version-schemes.ts';
import type { VersionScheme } from '../ecosystems/version-scheme.ts';
import type { RangeEvent } from '../ecosystems/vulnerability-record.ts';
import type { CheckVerdict, RecordCheck } from './finding.ts';
import type { CandidateRecord, MatchPackage } from './match-input.ts';
import { moduleStream } from './module-stream.ts';
import { lookupName, OS_PACKAGE_FORMATS } from './package-scope.ts';
import { repositoryMismatch, type CpeFields } from './repository-scope.ts';

/** What a record is checked against besides the package. */
export interface CheckContext {
  /** The image's release keys (`debian:bookworm`): distribution records of other keys do not apply. */
  releaseKeys: ReadonlySet<string>;
  /** Parsed `MatchOptions.repositoryCpes`, or null when not given. */
  imageCpes: readonly CpeFields[] | null;
  /**
   * Checks whose versions show no finding (`not-in-range`, `not-affected`) are only counted: they
   * get no detail and no affected versions (thousands per image are not written for nothing).
   */
  brief?: boolean;
}

const ARCH_ALIASES: Readonly<Record<string, string>> = { amd64: 'x86_64', arm64: 'aarch64', i686: 'i386', i586: 'i386', x86: 'i386', armhf: 'armv7hl' };
const MAX_DETAIL_VERSION = 200;

function arch(a: string): string {
  const t = a.trim().toLowerCase();
  return ARCH_ALIASES[t] ?? t;
}

function hasScheme(name: string): name is keyof typeof VERSION_SCHEME_BY_NAME {
  return Object.hasOwn(VERSION_SCHEME_BY_NAME, name);
}

function short(v: string): string {
  return v.length > MAX_DETAIL_VERSION ? `${v.slice(0, MAX_DETAIL_VERSION)}…` : v;
}

/** The affected versions of a record in words: OSV events as comparator runs, else `< fixed`, else `all versions`. */
export function describeAffected(record: Pick<CandidateRecord, 'affectedRange' | 'fixedVersion' | 'state'>): string {
  const events = record.affectedRange?.events ?? [];
  if (events.length > 0) {
    const runs: string[] = [];
    let open: string | null = null; // the lower bound of the run being read; '' = from the first version
    for (const e of events) {
      if ('introduced' in e) {
        if (open !== null) runs.push(open || '>= 0');
        open = e.introduced === '0' ? '' : `>= ${short(e.introduced)}`;
        continue;
      }
      const upper = 'fixed' in e ? `< ${short(e.fixed)}` : 'last_affected' in e ? `<= ${short(e.last_affected)}` : `< ${short(e.limit)} (limit)`;
      runs.push(open ? `${open}, ${upper}` : upper);
      open = null;
    }
    if (open !== null) runs.push(open || '>= 0');
    return runs.join(' || ');
  }
  if (record.fixedVersion !== null && record.fixedVersion !== '') return record.fixedVersion === '0' ? 'no version' : `< ${short(record.fixedVersion)}`;
  return record.state === 'not_affected' || record.state === 'fixed' ? 'no version' : 'all versions';
}

/** The `fixed` event versions of a record's range. */
function fixedEvents(events: readonly RangeEvent[]): string[] {
  return events.flatMap((e) => ('fixed' in e ? [e.fixed] : []));
}

/**
 * The fixed version that matters for `installed`: for OSV-style ranges, the lowest `fixed` event
 * above it when affected (the upgrade that fixes it), the highest at or below it when not (the
 * fix it already has); otherwise the record's fixed version (never `0`).
 */
function relevantFix(scheme: VersionScheme, installed: string, record: CandidateRecord, affected: boolean): string | null {
  const events = record.affectedRange?.events ?? [];
  if (events.length > 0) {
    let best: string | null = null;
    for (const f of fixedEvents(events)) {
      const cmp = scheme.compare(installed, f);
      if (affected ? cmp < 0 && (best === null || scheme.compare(f, best) < 0) : cmp >= 0 && (best === null || scheme.compare(f, best) > 0)) best = f;
    }
    return best;
  }
  const fixed = record.fixedVersion?.trim() ?? '';
  return fixed === '' || fixed === '0' ? null : fixed;
}

/**
 * A check of `record`: the verdict and why, and what was compared when it got that far (nothing
 * for a check that compared no version). One object: thousands are made per image.
 */
export function recordCheck(
  record: CandidateRecord,
  verdict: CheckVerdict,
  detail: string,
  matchedBy: RecordCheck['matchedBy'] = null,
  installedVersion: string | null = null,
  affectedVersions: string | null = null,
  fixedVersion: string | null = null,
  comparison: RecordCheck['comparison'] = null,
): RecordCheck {
  return {
    recordId: record.id,
    updater: record.updater,
    vulnerability: record.name,
    verdict,
    matchedBy,
    installedVersion,
    affectedVersions,
    fixedVersion,
    comparison,
    state: record.state,
    stateReason: record.stateReason,
    detail,
  };
}

/** A state in words (`not_fixed` → `not fixed`). */
function stateWords(state: string): string {
  return state.includes('_') ? state.replace(/_/g, ' ') : state;
}

/**
 * Checks one candidate record against one package, in this order: same ecosystem; a distribution
 * record for an OS package of the image's release (language records, `distribution: null`, for
 * language packages); the name the record keys by (`packageKind: 'source'` → the package's source
 * name, compared with its SOURCE version — a Debian binNMU `+b1` binary or a binary with its own
 * version must not decide; `binary` → the binary name and version); the arch when both say one
 * (`noarch` and `all` fit any); for rpm the module stream (a record with a module applies only to
 * a package of that `name:stream`, one without only to non-modular packages); the repository
 * scope (see `repositoryMismatch`); then the version, by the record's version scheme through
 * `isAffected`. Never throws: an unreadable version gives `invalid-version`.
 */
export function checkRecord(pkg: MatchPackage, record: CandidateRecord, context: CheckContext): RecordCheck {
  if (record.ecosystem !== pkg.ecosystem) return recordCheck(record, 'other-ecosystem', `a record of ${record.ecosystem}, not ${pkg.ecosystem}`);
  const osPackage = OS_PACKAGE_FORMATS.has(pkg.ecosystem);
  if (osPackage) {
    if (record.distribution === null || !context.releaseKeys.has(record.distribution)) {
      return recordCheck(record, 'other-release', `a record for ${record.distribution ?? 'no release'}, not ${[...context.releaseKeys].join(' or ') || 'a known release'}`);
    }
  } else if (record.distribution !== null) {
    return recordCheck(record, 'other-release', `a ${record.distribution} distribution record for a language package`);
  }

  const sourceName = pkg.sourceName?.trim() || pkg.name;
  const recordName = lookupName(record.ecosystem, record.packageName);
  let matchedBy: 'binary' | 'source';
  let installed: string;
  if (record.packageKind === 'source') {
    if (recordName !== lookupName(pkg.ecosystem, sourceName)) return recordCheck(record, 'other-package', `keyed by source package ${record.packageName}, not ${sourceName}`);
    matchedBy = 'source';
    installed = pkg.sourceVersion?.trim() || pkg.version;
  } else {
    if (recordName !== lookupName(pkg.ecosystem, pkg.name)) return recordCheck(record, 'other-package', `keyed by package ${record.packageName}, not ${pkg.name}`);
    matchedBy = 'binary';
    installed = pkg.version;
  }
  // No closures below: thousands of checks are made per image.

  if (record.arch !== null && record.arch.trim() !== '' && pkg.arch) {
    const own = arch(pkg.arch);
    const theirs = record.arch.split(/[|,\s]+/).filter(Boolean).map(arch);
    if (!['noarch', 'all'].includes(own) && !theirs.includes(own) && !theirs.includes('noarch')) {
      return recordCheck(record, 'other-arch', `for ${record.arch}, not ${pkg.arch}`, matchedBy, installed, describeAffected(record));
    }
  }
  if (pkg.ecosystem === 'rpm') {
    const stream = moduleStream(pkg.module);
    const wanted = record.module?.trim() || null;
    if (wanted !== stream) {
      const detail =
        wanted === null ? `a record for non-modular builds; the package is from module ${stream}` : stream === null ? `a record for module ${wanted}; the package is not modular` : `a record for module ${wanted}, not ${stream}`;
      return recordCheck(record, 'other-module', detail, matchedBy, installed, describeAffected(record));
    }
  }
  const scoped = repositoryMismatch(record.repository, context.imageCpes);
  if (scoped !== null) return recordCheck(record, 'other-repository', scoped, matchedBy, installed, describeAffected(record));

  if (!hasScheme(record.ecosystem)) return recordCheck(record, 'invalid-version', `no version scheme for ${record.ecosystem}`, matchedBy, installed, describeAffected(record));
  const scheme = VERSION_SCHEME_BY_NAME[record.ecosystem];
  const kind = matchedBy === 'source' ? 'source version' : 'version';
  try {
    const events = record.affectedRange?.events ?? [];
    const plainFix = record.fixedVersion?.trim() ?? '';
    let affected: boolean;
    let fix: string | null;
    let comparison: -1 | 0 | 1 | null;
    if (events.length === 0 && plainFix !== '' && plainFix !== '0' && record.state !== 'not_affected') {
      // `isAffected`'s rule for a plain fixed version ("< fixedVersion"), comparing once for both answers
      fix = plainFix;
      comparison = scheme.compare(installed, fix);
      affected = comparison < 0;
    } else {
      affected = isAffected(scheme, installed, record);
      fix = relevantFix(scheme, installed, record, affected);
      comparison = fix === null ? null : scheme.compare(installed, fix);
    }
    if (context.brief === true && (record.state === 'not_affected' || !affected)) {
      return recordCheck(record, record.state === 'not_affected' ? 'not-affected' : 'not-in-range', '', matchedBy, installed, null, fix, comparison);
    }
    const range = describeAffected(record);
    const reason = record.stateReason ? ` (${record.stateReason})` : '';
    let verdict: CheckVerdict;
    let detail: string;
    if (record.state === 'not_affected') {
      verdict = 'not-affected';
      detail = `the vendor says ${record.packageName} is not affected${reason}`;
    } else if (affected) {
      const why = fix !== null ? `${kind} ${short(installed)} < fixed version ${short(fix)}` : events.length > 0 ? `${kind} ${short(installed)} is in ${range}` : `no fixed version`;
      verdict = 'affected';
      detail = `${why}: affected, ${stateWords(record.state)}${reason}`;
    } else {
      verdict = 'not-in-range';
      detail = fix !== null
        ? `${kind} ${short(installed)} ${comparison === 0 ? '=' : '>'} fixed version ${short(fix)}: not affected`
        : events.length > 0
          ? `${kind} ${short(installed)} is outside ${range}: not affected`
          : `${stateWords(record.state)} without a version${reason}: not counted`;
    }
    return recordCheck(record, verdict, detail, matchedBy, installed, range, fix, comparison);
  } catch (error) {
    return recordCheck(record, 'invalid-version', `versions not comparable: ${String((error as Error).message ?? error).slice(0, 300)}`, matchedBy, installed, describeAffected(record));
  }
}
