import { InvalidRangeError, MAX_RANGE_LENGTH, satisfiesComparators } from '../affected-range.ts';
import { InvalidVersionError, type VersionScheme } from '../version-scheme.ts';

/** The longest version string accepted (Maven 3.9 has no limit; Maven 4 refuses more than 256 characters). */
export const MAX_MAVEN_VERSION_LENGTH = 256;

// ComparableVersion's items (maven-artifact 3.9). Numbers keep their kind (int: up to 9 digits,
// long: up to 18, big: more) because Maven orders a longer kind above a shorter one without
// looking at values.
type NumberKind = 0 | 1 | 2;
interface NumberItem {
  t: 'n';
  kind: NumberKind;
  /** ASCII digits without leading zeros (`'0'` for zero). */
  digits: string;
}
interface StringItem {
  t: 's';
  value: string;
}
type ListItem = { t: 'l'; items: Item[] };
type Item = NumberItem | StringItem | ListItem;

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Readonly<Record<string, string>> = { ga: '', final: '', release: '', cr: 'rc' };
const RELEASE_VERSION_INDEX = String(QUALIFIERS.indexOf(''));
const ZERO: NumberItem = { t: 'n', kind: 0, digits: '0' };

function comparableQualifier(q: string): string {
  const i = QUALIFIERS.indexOf(q);
  return i === -1 ? `${QUALIFIERS.length}-${q}` : String(i);
}

function sign(a: string, b: string): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Java's `Character.isDigit(char)`: any Unicode decimal digit in the BMP (Maven 3.9 uses it). */
function isJavaDigit(c: number): boolean {
  if (c >= 0x30 && c <= 0x39) return true;
  if (c < 0x80 || (c >= 0xd800 && c <= 0xdfff)) return false;
  return /\p{Nd}/u.test(String.fromCharCode(c));
}

/** Java's `Character.digit(c, 10)` for a decimal digit: its place in its run of ten. */
function javaDigitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  let k = 0;
  while (isJavaDigit(c - k - 1)) k++;
  return k % 10;
}

function newString(value: string, followedByDigit: boolean): StringItem {
  if (followedByDigit && value.length === 1) {
    // a1 = alpha-1, b1 = beta-1, m1 = milestone-1
    if (value === 'a') value = 'alpha';
    else if (value === 'b') value = 'beta';
    else if (value === 'm') value = 'milestone';
  }
  return { t: 's', value: Object.hasOwn(ALIASES, value) ? ALIASES[value]! : value };
}

/** `parseItem(true, buf)`: Java's Integer/Long/BigInteger parsing, which reads any Unicode digit. */
function newNumber(buf: string): NumberItem {
  let i = 0;
  while (i < buf.length && buf.charCodeAt(i) === 0x30) i++;
  const stripped = i === buf.length ? '0' : buf.slice(i);
  const kind: NumberKind = stripped.length <= 9 ? 0 : stripped.length <= 18 ? 1 : 2;
  let digits = '';
  for (let j = 0; j < stripped.length; j++) digits += String.fromCharCode(0x30 + javaDigitValue(stripped.charCodeAt(j)));
  let k = 0;
  while (k < digits.length - 1 && digits.charCodeAt(k) === 0x30) k++;
  return { t: 'n', kind, digits: digits.slice(k) };
}

function parseItem(isDigit: boolean, buf: string): Item {
  return isDigit ? newNumber(buf) : newString(buf, false);
}

function isNull(item: Item): boolean {
  switch (item.t) {
    case 'n':
      return item.digits === '0';
    case 's':
      return comparableQualifier(item.value) === RELEASE_VERSION_INDEX;
    default:
      return item.items.length === 0;
  }
}

/** Drops trailing null items (0, "", ga/final/release, empty lists) up to the last non-list item. */
function normalize(list: ListItem): void {
  const items = list.items;
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i]!;
    if (isNull(item)) items.splice(i, 1);
    else if (item.t !== 'l') break;
  }
}

/**
 * Parses a version into ComparableVersion's item tree as maven-artifact 3.9 does: `.` and `-`
 * separators (`-` opens a sub-list), digit/letter transitions, and since MNG-7644 a qualifier
 * after `.` read as if after `-` (`1.0.0.RC1 < 1.0.0-RC2`, `2.0.X == 2-X`).
 */
function parseMaven(input: string): ListItem {
  const version = input.toLowerCase();
  const root: ListItem = { t: 'l', items: [] };
  let list = root;
  const stack: ListItem[] = [root];
  let isDigit = false;
  let startIndex = 0;
  const push = (): void => {
    const sub: ListItem = { t: 'l', items: [] };
    list.items.push(sub);
    list = sub;
    stack.push(sub);
  };
  for (let i = 0; i < version.length; i++) {
    const c = version.charCodeAt(i);
    if (c === 0x2e /* . */) {
      list.items.push(i === startIndex ? ZERO : parseItem(isDigit, version.slice(startIndex, i)));
      startIndex = i + 1;
    } else if (c === 0x2d /* - */) {
      list.items.push(i === startIndex ? ZERO : parseItem(isDigit, version.slice(startIndex, i)));
      startIndex = i + 1;
      push();
    } else if (isJavaDigit(c)) {
      if (!isDigit && i > startIndex) {
        // 1.0.0.X1 < 1.0.0-X2: treat .X as -X for any string qualifier X
        if (list.items.length > 0) push();
        list.items.push(newString(version.slice(startIndex, i), true));
        startIndex = i;
        push();
      }
      isDigit = true;
    } else {
      if (isDigit && i > startIndex) {
        list.items.push(parseItem(true, version.slice(startIndex, i)));
        startIndex = i;
        push();
      }
      isDigit = false;
    }
  }
  if (version.length > startIndex) {
    if (!isDigit && list.items.length > 0) push();
    list.items.push(parseItem(isDigit, version.slice(startIndex)));
  }
  while (stack.length > 0) normalize(stack.pop()!);
  return root;
}

function compareItem(a: Item, b: Item | null): number {
  switch (a.t) {
    case 'n':
      if (b === null) return a.digits === '0' ? 0 : 1; // 1.0 == 1, 1.1 > 1
      if (b.t !== 'n') return 1; // 1.1 > 1-sp, 1.1 > 1-1
      if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
      if (a.digits.length !== b.digits.length) return a.digits.length < b.digits.length ? -1 : 1;
      return sign(a.digits, b.digits);
    case 's':
      if (b === null) return sign(comparableQualifier(a.value), RELEASE_VERSION_INDEX); // 1-rc < 1, 1-sp > 1
      if (b.t === 's') return sign(comparableQualifier(a.value), comparableQualifier(b.value));
      return -1; // 1.any < 1.1, 1.any < 1-1
    default: {
      const items = a.items;
      if (b === null) {
        // MNG-6964: the whole list against nothing, not just its first item
        for (const item of items) {
          const r = compareItem(item, null);
          if (r !== 0) return r;
        }
        return 0;
      }
      if (b.t === 'n') return -1; // 1-1 < 1.0.x
      if (b.t === 's') return 1; // 1-1 > 1-sp
      const other = b.items;
      const n = Math.max(items.length, other.length);
      for (let i = 0; i < n; i++) {
        const l = items[i];
        const r = other[i];
        const result = l === undefined ? (r === undefined ? 0 : -compareItem(r, null)) : compareItem(l, r ?? null);
        if (result !== 0) return result;
      }
      return 0;
    }
  }
}

/** The parsed form of a Maven version, or null for an empty or overlong string. */
function tryParse(version: string): ListItem | null {
  if (version.length === 0 || version.length > MAX_MAVEN_VERSION_LENGTH) return null;
  return parseMaven(version);
}

function parseOrThrow(version: string): ListItem {
  const parsed = tryParse(version);
  if (parsed === null) throw new InvalidVersionError('maven', version, version === '' ? 'empty version' : 'version too long');
  return parsed;
}

/** Orders two Maven versions as maven-artifact 3.9's `ComparableVersion.compareTo` does. */
export function compareMavenVersions(a: string, b: string): -1 | 0 | 1 {
  const r = compareItem(parseOrThrow(a), parseOrThrow(b));
  return r < 0 ? -1 : r > 0 ? 1 : 0;
}

interface Restriction {
  lower: string | null;
  lowerInclusive: boolean;
  upper: string | null;
  upperInclusive: boolean;
}

/**
 * Parses a Maven version range as `VersionRange.createFromVersionSpec` does: `[1.0,2.0)`,
 * `(,1.0]`, `[1.5]`, and comma-joined unions `(,1.0],[1.2,)`; overlapping or reversed ranges are
 * refused as Maven refuses them. A bare version (Maven's "soft requirement") is taken as exactly
 * that version, which is what an advisory means by it.
 */
export function parseMavenRange(spec: string): Restriction[] {
  const restrictions: Restriction[] = [];
  let process = spec.trim();
  let upperBound: string | null = null;
  let first = true;
  while (process.startsWith('[') || process.startsWith('(')) {
    const index1 = process.indexOf(')');
    const index2 = process.indexOf(']');
    let index = index2;
    if ((index2 < 0 || index1 < index2) && index1 >= 0) index = index1;
    if (index < 0) throw new InvalidRangeError('maven', spec, 'unbounded range');
    const restriction = parseRestriction(process.slice(0, index + 1), spec);
    if (!first && upperBound !== null) {
      if (restriction.lower === null || compareMavenVersions(restriction.lower, upperBound) < 0) throw new InvalidRangeError('maven', spec, 'ranges overlap');
    }
    first = false;
    restrictions.push(restriction);
    upperBound = restriction.upper;
    process = process.slice(index + 1).trim();
    if (process.startsWith(',')) process = process.slice(1).trim();
  }
  if (process !== '') {
    if (restrictions.length > 0) throw new InvalidRangeError('maven', spec, 'only bracketed ranges may be joined');
    if (tryParse(process) === null) throw new InvalidRangeError('maven', spec, 'not a version');
    restrictions.push({ lower: process, lowerInclusive: true, upper: process, upperInclusive: true });
  }
  if (restrictions.length === 0) throw new InvalidRangeError('maven', spec, 'empty range');
  return restrictions;
}

function parseRestriction(text: string, spec: string): Restriction {
  const lowerInclusive = text.startsWith('[');
  const upperInclusive = text.endsWith(']');
  const inner = text.slice(1, -1).trim();
  const comma = inner.indexOf(',');
  if (comma < 0) {
    if (!lowerInclusive || !upperInclusive) throw new InvalidRangeError('maven', spec, 'a single version must be in []');
    if (tryParse(inner) === null) throw new InvalidRangeError('maven', spec, `not a version: ${inner}`);
    return { lower: inner, lowerInclusive, upper: inner, upperInclusive };
  }
  const lower = inner.slice(0, comma).trim() || null;
  const upper = inner.slice(comma + 1).trim() || null;
  for (const bound of [lower, upper]) {
    if (bound !== null && tryParse(bound) === null) throw new InvalidRangeError('maven', spec, `not a version: ${bound}`);
  }
  if (lower !== null && upper !== null) {
    const result = compareMavenVersions(upper, lower);
    if (result < 0 || (result === 0 && (!lowerInclusive || !upperInclusive))) throw new InvalidRangeError('maven', spec, 'range defies version ordering');
  }
  return { lower, lowerInclusive, upper, upperInclusive };
}

function contains(r: Restriction, version: string): boolean {
  if (r.lower !== null) {
    const c = compareMavenVersions(r.lower, version);
    if (c > 0 || (c === 0 && !r.lowerInclusive)) return false;
  }
  if (r.upper !== null) {
    const c = compareMavenVersions(r.upper, version);
    if (c < 0 || (c === 0 && !r.upperInclusive)) return false;
  }
  return true;
}

/**
 * Maven artifact versions, ordered as maven-artifact 3.9's `ComparableVersion` (Maven 3.9.x,
 * with MNG-7644: `1.0.0.RC1 < 1.0.0-RC2`, `2.0.X == 2-X`): qualifiers alpha < beta < milestone <
 * rc = cr < snapshot < (release = ga = final) < sp < others (lexical), a number above any
 * qualifier. Any non-empty string of up to 256 characters is a version, as Maven parses anything.
 * Ranges: Maven range syntax (`[1.0,2.0)`, `(,1.0],[1.2,)`), or comparators (`>= 1.0, < 2.0`)
 * as GitHub advisories write them.
 */
export const mavenVersion: VersionScheme = {
  name: 'maven',
  compare(a, b) {
    return compareMavenVersions(a, b);
  },
  isValid(version) {
    return tryParse(version) !== null;
  },
  satisfies(version, range) {
    if (range.length > MAX_RANGE_LENGTH) throw new InvalidRangeError('maven', range.slice(0, 64), 'range too long');
    parseOrThrow(version);
    const trimmed = range.trim();
    if (trimmed.startsWith('[') || trimmed.startsWith('(')) return parseMavenRange(trimmed).some((r) => contains(r, version));
    return satisfiesComparators(mavenVersion, version, trimmed);
  },
};
