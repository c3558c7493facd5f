import { InvalidVersionError, type VersionScheme } from './version-scheme.ts';
import type { AffectedRange, FindingState, RangeEvent } from './vulnerability-record.ts';

/** Thrown by `satisfies` for a range string that is not a range in the scheme's syntax. */
export class InvalidRangeError extends Error {
  constructor(scheme: string, range: string, reason?: string) {
    super(`invalid ${scheme} range ${JSON.stringify(range)}${reason ? `: ${reason}` : ''}`);
    this.name = 'InvalidRangeError';
  }
}

/** The longest range string any scheme accepts (ranges come from feeds, which strangers write). */
export const MAX_RANGE_LENGTH = 4096;

/** What `isAffected` needs of a vulnerability record. */
export interface AffectedRecord {
  affectedRange: AffectedRange | null;
  fixedVersion: string | null;
  state: FindingState;
}

/** States that mean "affected" on their own, when the record has neither a range nor a fixed version. */
const AFFECTED_WITHOUT_VERSIONS: ReadonlySet<FindingState> = new Set(['not_fixed', 'will_not_fix', 'fix_deferred', 'end_of_life', 'under_investigation']);

/**
 * Whether `version` is affected by a record, with the OSV event semantics: events are sorted by
 * version (`introduced: "0"` first); `introduced` opens a range (inclusive), `fixed` closes it
 * (exclusive), `last_affected` closes it (inclusive), `limit` caps everything at or above it;
 * several introduced/fixed pairs give several ranges. Without events, `fixedVersion` means
 * "< fixedVersion" (`"0"` meaning nothing is affected). `not_affected` is never affected; a record
 * with neither events nor a fixed version is affected when its state says so (not fixed, will not
 * fix, deferred, end of life, under investigation). Throws `InvalidVersionError` when `version` or
 * an event's version is not a version of `scheme`.
 */
export function isAffected(scheme: VersionScheme, version: string, record: AffectedRecord): boolean {
  if (record.state === 'not_affected') return false;
  if (!scheme.isValid(version)) throw new InvalidVersionError(scheme.name, version);
  const events = record.affectedRange?.events ?? [];
  if (events.length > 0) return affectedByEvents(scheme, version, events);
  if (record.fixedVersion !== null && record.fixedVersion !== '') {
    if (record.fixedVersion === '0') return false;
    return scheme.compare(version, record.fixedVersion) < 0;
  }
  return AFFECTED_WITHOUT_VERSIONS.has(record.state);
}

interface SortedEvent {
  kind: 'introduced' | 'fixed' | 'last_affected' | 'limit';
  version: string;
  /** `introduced: "0"`, below every version. */
  zero: boolean;
}

const KIND_ORDER = { introduced: 0, last_affected: 1, fixed: 2, limit: 3 } as const;

function affectedByEvents(scheme: VersionScheme, version: string, events: readonly RangeEvent[]): boolean {
  const sorted: SortedEvent[] = events.map(toSortedEvent);
  sorted.sort((x, y) => {
    if (x.zero || y.zero) return x.zero === y.zero ? 0 : x.zero ? -1 : 1;
    return scheme.compare(x.version, y.version) || KIND_ORDER[x.kind] - KIND_ORDER[y.kind];
  });
  let affected = false;
  for (const event of sorted) {
    if (event.zero) {
      affected = true;
      continue;
    }
    const cmp = scheme.compare(version, event.version);
    if (event.kind === 'introduced') {
      if (cmp >= 0) affected = true;
    } else if (event.kind === 'fixed' || event.kind === 'limit') {
      if (cmp >= 0) affected = false;
    } else if (cmp > 0) {
      affected = false;
    }
  }
  return affected;
}

function toSortedEvent(event: RangeEvent): SortedEvent {
  if ('introduced' in event) return { kind: 'introduced', version: event.introduced, zero: event.introduced === '0' };
  if ('fixed' in event) return { kind: 'fixed', version: event.fixed, zero: false };
  if ('last_affected' in event) return { kind: 'last_affected', version: event.last_affected, zero: false };
  return { kind: 'limit', version: event.limit, zero: false };
}

const COMPARATOR = /^(<<|>>|<=|>=|==|!=|<|>|=)?\s*([^\s<>=!]\S*)$/;

/**
 * `satisfies` for the distro and Go schemes: comparators `<`, `<=`, `>`, `>=`, `=`/`==`, `!=`
 * (and Debian's `<<`/`>>` for strict), a bare version meaning `=`, joined by `,` (all must hold);
 * alternatives joined by `||` (any may hold). Throws {@link InvalidRangeError} on a malformed range
 * and `InvalidVersionError` (from `compare`) on an invalid version on either side.
 */
export function satisfiesComparators(scheme: Pick<VersionScheme, 'name' | 'compare'>, version: string, range: string): boolean {
  if (range.length > MAX_RANGE_LENGTH) throw new InvalidRangeError(scheme.name, range.slice(0, 64), 'range too long');
  const alternatives = range.split('||');
  let any = false;
  for (const alternative of alternatives) {
    const parts = alternative.split(',');
    let all = true;
    for (const raw of parts) {
      const match = COMPARATOR.exec(raw.trim());
      if (match === null) throw new InvalidRangeError(scheme.name, range, `cannot read comparator ${JSON.stringify(raw.trim())}`);
      const cmp = scheme.compare(version, match[2]!);
      // Evaluate every comparator (even after one fails) so that an invalid version anywhere throws.
      if (!holds(match[1] ?? '=', cmp)) all = false;
    }
    if (all) any = true;
  }
  return any;
}

function holds(op: string, cmp: number): boolean {
  switch (op) {
    case '<':
    case '<<':
      return cmp < 0;
    case '<=':
      return cmp <= 0;
    case '>':
    case '>>':
      return cmp > 0;
    case '>=':
      return cmp >= 0;
    case '!=':
      return cmp !== 0;
    default:
      return cmp === 0;
  }
}
