import { InvalidRangeError, MAX_RANGE_LENGTH } from '../affected-range.ts';
import { InvalidVersionError, type VersionScheme } from '../version-scheme.ts';
import { memoizeParse } from '../memoize-parse.ts';

/** The longest version string accepted (RubyGems has no limit; real ones are far shorter). */
export const MAX_GEM_VERSION_LENGTH = 256;

/** A segment: a number (digit string without leading zeros) or a letter run (compared as bytes). */
type Segment = { n: string } | { s: string };

/** A Gem::Version: its canonical segments and whether it is a pre-release (has a letter). */
export interface GemVersion {
  segments: Segment[];
  prerelease: boolean;
}

// Gem::Version::ANCHORED_VERSION_PATTERN; Ruby's \s is ASCII whitespace.
const VERSION = /^[ \t\r\n\f\v]*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?[ \t\r\n\f\v]*$/;

function stripZeros(digits: string): string {
  let i = 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 0x30) i++;
  return digits.slice(i);
}

function segmentsOf(version: string): Segment[] {
  // `-` is read as `.pre.` (1.0-1 is a pre-release of 1.0), then [0-9]+ and [a-z]+ runs.
  const text = version.replaceAll('-', '.pre.');
  return (text.match(/[0-9]+|[a-z]+/gi) ?? []).map((s) => (/^[0-9]/.test(s) ? { n: stripZeros(s) } : { s }));
}

function isZero(segment: Segment): boolean {
  return 'n' in segment && segment.n === '0';
}

/**
 * Gem::Version#canonical_segments: the numeric prefix and the rest (from the first letter run)
 * each lose their trailing zeros.
 */
function canonical(segments: Segment[]): Segment[] {
  const firstString = segments.findIndex((s) => 's' in s);
  const numeric = firstString === -1 ? segments : segments.slice(0, firstString);
  const rest = firstString === -1 ? [] : segments.slice(firstString);
  const trim = (list: Segment[]): Segment[] => {
    let end = list.length;
    while (end > 0 && isZero(list[end - 1]!)) end--;
    return list.slice(0, end);
  };
  return [...trim(numeric), ...trim(rest)];
}

/** Parses a version as `Gem::Version.new` does (blank means `0`), or returns null when RubyGems would raise. */
export const parseGemVersion: (input: string) => GemVersion | null = memoizeParse(parseUncached);

function parseUncached(input: string): GemVersion | null {
  if (input.length > MAX_GEM_VERSION_LENGTH) return null;
  const m = VERSION.exec(input);
  if (m === null) return null;
  const version = m[1] ?? '0';
  return { segments: canonical(segmentsOf(version)), prerelease: /[a-zA-Z]/.test(version) };
}

function compareSegments(a: readonly Segment[], b: readonly Segment[]): -1 | 0 | 1 {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const l = a[i] ?? { n: '0' };
    const r = b[i] ?? { n: '0' };
    if ('n' in l && 'n' in r) {
      if (l.n === r.n) continue;
      if (l.n.length !== r.n.length) return l.n.length < r.n.length ? -1 : 1;
      return l.n < r.n ? -1 : 1;
    }
    if ('s' in l && 's' in r) {
      if (l.s === r.s) continue;
      return l.s < r.s ? -1 : 1;
    }
    // A letter run sorts before a number: 1.0.a < 1.0.0.
    return 's' in l ? -1 : 1;
  }
  return 0;
}

/** Orders two parsed versions as `Gem::Version#<=>` does. */
export function compareGemVersions(a: GemVersion, b: GemVersion): -1 | 0 | 1 {
  return compareSegments(a.segments, b.segments);
}

function parseOrThrow(version: string): GemVersion {
  const parsed = parseGemVersion(version);
  if (parsed === null) throw new InvalidVersionError('gem', version, 'malformed version number string');
  return parsed;
}

/** Gem::Version#release: the version without its letter segments and what follows them. */
function releaseOf(v: GemVersion): GemVersion {
  if (!v.prerelease) return v;
  const firstString = v.segments.findIndex((s) => 's' in s);
  const segments = firstString === -1 ? v.segments : v.segments.slice(0, firstString);
  return { segments: canonical(segments), prerelease: false };
}

/** Gem::Version#bump: drop letter segments and the last number, add one to the new last number. */
function bumpOf(raw: GemVersion): GemVersion {
  const firstString = raw.segments.findIndex((s) => 's' in s);
  const numbers = (firstString === -1 ? raw.segments : raw.segments.slice(0, firstString)).map((s) => ('n' in s ? s.n : '0'));
  if (numbers.length > 1) numbers.pop();
  const last = numbers.length - 1;
  numbers[last] = (BigInt(numbers[last] ?? '0') + 1n).toString();
  return { segments: canonical(numbers.map((n) => ({ n }))), prerelease: false };
}

const REQUIREMENT = /^[ \t\r\n\f\v]*(=|!=|>=|<=|>|<|~>)?[ \t\r\n\f\v]*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)[ \t\r\n\f\v]*$/;

/**
 * Whether a version meets a RubyGems requirement list as advisories write it (`~> 1.2, >= 1.2.3`):
 * every comma-separated requirement must hold (Gem::Requirement#satisfied_by?). `~> X.Y` means
 * `>= X.Y` and `< (X+1)`; `~> X.Y.Z` means `>= X.Y.Z` and `< X.(Y+1)`, pre-releases compared by
 * their release.
 */
export function satisfiesGem(version: string, requirements: string): boolean {
  if (requirements.length > MAX_RANGE_LENGTH) throw new InvalidRangeError('gem', requirements.slice(0, 64), 'range too long');
  const v = parseOrThrow(version);
  let all = true;
  for (const part of requirements.split(',')) {
    const m = REQUIREMENT.exec(part);
    if (m === null) throw new InvalidRangeError('gem', requirements, `cannot read requirement ${JSON.stringify(part.trim())}`);
    const op = m[1] ?? '=';
    const target = parseOrThrow(m[2]!);
    const cmp = compareGemVersions(v, target);
    let ok: boolean;
    switch (op) {
      case '!=':
        ok = cmp !== 0;
        break;
      case '>':
        ok = cmp > 0;
        break;
      case '<':
        ok = cmp < 0;
        break;
      case '>=':
        ok = cmp >= 0;
        break;
      case '<=':
        ok = cmp <= 0;
        break;
      case '~>':
        ok = cmp >= 0 && compareGemVersions(releaseOf(v), bumpOf(rawSegments(m[2]!))) < 0;
        break;
      default:
        ok = cmp === 0;
    }
    if (!ok) all = false;
  }
  return all;
}

/** The segments as written (bump works on them, not on the canonical ones: `~> 1.0` bumps to 2). */
function rawSegments(version: string): GemVersion {
  const v = version.trim();
  return { segments: segmentsOf(v), prerelease: /[a-zA-Z]/.test(v) };
}

/**
 * RubyGems versions, ordered as `Gem::Version#<=>`: dot-separated numbers and letter runs
 * (`1.0.0.rc1` = 1, 0, 0, rc, 1), a letter run before any number (so pre-releases sort before
 * their release), trailing zeros ignored, `-` read as `.pre.`. Ranges: requirement lists
 * (`~> 1.2, >= 1.2.3`, see {@link satisfiesGem}).
 */
export const gemVersion: VersionScheme = {
  name: 'gem',
  compare(a, b) {
    return compareGemVersions(parseOrThrow(a), parseOrThrow(b));
  },
  isValid(version) {
    return parseGemVersion(version) !== null;
  },
  satisfies(version, range) {
    return satisfiesGem(version, range);
  },
};
