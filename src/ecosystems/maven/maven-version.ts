import { InvalidRangeError, MAX_RANGE_LENGTH, satisfiesComparators } from '../affected-range.ts';
import { InvalidVersionError, type VersionScheme } from '../version-scheme.ts';

/** Maven 4's own limit on a version string (ComparableVersion.MAX_VERSION_LENGTH). */
export const MAX_MAVEN_VERSION_LENGTH = 256;

// ComparableVersion's item kinds. Numbers keep their kind (int: up to 9 digits, long: up to 18,
// big: more) because Maven orders a longer kind above a shorter one without looking at values.
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
interface CombinationItem {
  t: 'c';
  stringPart: StringItem;
  digitPart: NumberItem;
}
type ListItem = { t: 'l'; items: Item[] };
type Item = NumberItem | StringItem | CombinationItem | ListItem;

/** Thrown inside the parser where Java's ComparableVersion would throw. */
class Unparsable extends Error {}

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const RELEASE_QUALIFIERS = new Set(['ga', 'final', 'release']);
const RELEASE_VERSION_INDEX = String(QUALIFIERS.indexOf(''));
const ZERO: NumberItem = { t: 'n', kind: 0, digits: '0' };

function comparableQualifier(q: string): string {
  if (RELEASE_QUALIFIERS.has(q)) return RELEASE_VERSION_INDEX;
  const i = QUALIFIERS.indexOf(q);
  return i === -1 ? `${QUALIFIERS.length}-${q}` : String(i);
}

function sign(a: string, b: string): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isAsciiDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Java's `Character.isDigit(char)`: any Unicode decimal digit in the BMP. */
function isJavaDigit(c: number): boolean {
  if (isAsciiDigit(c)) return true;
  if (c < 0x80 || (c >= 0xd800 && c <= 0xdfff)) return false;
  return /\p{Nd}/u.test(String.fromCharCode(c));
}

/** Java's `Character.digit(c, 10)` for a decimal digit: its place in its run of ten. */
function javaDigitValue(c: number): number {
  if (isAsciiDigit(c)) return c - 0x30;
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
  return { t: 's', value: value === 'cr' ? 'rc' : value };
}

/** `parseItem(isDigit=true, buf)`: Java's Integer/Long/BigInteger parsing, Unicode digits included. */
function newNumber(buf: string): NumberItem {
  let i = 0;
  while (i < buf.length && buf.charCodeAt(i) === 0x30) i++;
  const stripped = i === buf.length ? '0' : buf.slice(i);
  const kind: NumberKind = stripped.length <= 9 ? 0 : stripped.length <= 18 ? 1 : 2;
  let digits = '';
  for (let j = 0; j < stripped.length; j++) {
    const c = stripped.charCodeAt(j);
    if (!isJavaDigit(c)) throw new Unparsable(`not a number: ${buf}`);
    digits += String.fromCharCode(0x30 + javaDigitValue(c));
  }
  let k = 0;
  while (k < digits.length - 1 && digits.charCodeAt(k) === 0x30) k++;
  return { t: 'n', kind, digits: digits.slice(k) };
}

function newCombination(value: string): CombinationItem {
  let index = 0;
  for (let i = 0; i < value.length; i++) {
    if (isJavaDigit(value.charCodeAt(i))) {
      index = i;
      break;
    }
  }
  return { t: 'c', stringPart: newString(value.slice(0, index), true), digitPart: newNumber(value.slice(index)) };
}

function parseItem(isCombination: boolean, isDigit: boolean, buf: string): Item {
  if (isCombination) return newCombination(buf.replaceAll('-', ''));
  if (isDigit) return newNumber(buf);
  return newString(buf, false);
}

function isNull(item: Item): boolean {
  switch (item.t) {
    case 'n':
      return item.digits === '0';
    case 's':
      return item.value === '';
    case 'c':
      return false;
    default:
      return item.items.length === 0;
  }
}

function normalize(list: ListItem): void {
  const items = list.items;
  for (let i = items.length - 1; i >= 0; i--) {
    if (!isNull(items[i]!)) continue;
    const next = items[i + 1];
    if (next === undefined || next.t === 's') {
      items.splice(i, 1);
    } else if (next.t === 'l') {
      const first = next.items[0];
      if (first === undefined) throw new Unparsable('empty sub-list');
      if (first.t === 'c' || first.t === 's') items.splice(i, 1);
    }
  }
  const only = items[0];
  if (items.length === 1 && only !== undefined && only.t === 'l') list.items = only.items.slice();
}

/**
 * Parses a version into ComparableVersion's item tree (Maven 4 / maven-artifact 3.9+: `.` and `-`
 * separators, digit/letter transitions, `X-1` read as `X1`, a trailing `.X` read as `-X`).
 */
function parseMaven(input: string): ListItem {
  const version = input.toLowerCase();
  const root: ListItem = { t: 'l', items: [] };
  let list = root;
  const stack: ListItem[] = [root];
  let isDigit = false;
  let isCombination = false;
  let startIndex = 0;
  const push = (): void => {
    const sub: ListItem = { t: 'l', items: [] };
    list.items.push(sub);
    list = sub;
    stack.push(sub);
  };
  for (let i = 0; i < version.length; i++) {
    const c = version.charCodeAt(i);
    // Java reads a surrogate pair as one code point and moves i to its low half first.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < version.length) i++;
    if (c === 0x2e /* . */) {
      list.items.push(i === startIndex ? ZERO : parseItem(isCombination, isDigit, version.slice(startIndex, i)));
      isCombination = false;
      startIndex = i + 1;
    } else if (c === 0x2d /* - */) {
      if (i === startIndex) {
        list.items.push(ZERO);
      } else {
        // X-1 is read as X1
        if (!isDigit && i !== version.length - 1 && isJavaDigit(version.charCodeAt(i + 1))) {
          isCombination = true;
          continue;
        }
        list.items.push(parseItem(isCombination, isDigit, version.slice(startIndex, i)));
      }
      startIndex = i + 1;
      if (list.items.length > 0) push();
      isCombination = false;
    } else if (isAsciiDigit(c)) {
      if (!isDigit && i > startIndex) {
        // X1
        isCombination = true;
        if (list.items.length > 0) push();
      }
      isDigit = true;
    } else {
      if (isDigit && i > startIndex) {
        list.items.push(parseItem(isCombination, true, version.slice(startIndex, i)));
        startIndex = i;
        push();
        isCombination = false;
      }
      isDigit = false;
    }
  }
  if (version.length > startIndex) {
    // 1.0.0.X1 < 1.0.0-X2: a trailing .X is read as -X
    if (!isDigit && list.items.length > 0) push();
    list.items.push(parseItem(isCombination, isDigit, version.slice(startIndex)));
  }
  while (stack.length > 0) normalize(stack.pop()!);
  return root;
}

function compareNumber(a: NumberItem, b: Item | null): number {
  if (b === null) return a.digits === '0' ? 0 : 1;
  if (b.t !== 'n') return 1; // 1.1 > 1-sp, 1.1 > 1-1
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  if (a.digits.length !== b.digits.length) return a.digits.length < b.digits.length ? -1 : 1;
  return sign(a.digits, b.digits);
}

function compareString(a: StringItem, b: Item | null): number {
  if (b === null) return sign(comparableQualifier(a.value), RELEASE_VERSION_INDEX); // 1-rc < 1, 1-sp > 1
  switch (b.t) {
    case 'n':
      return -1;
    case 's':
      return sign(comparableQualifier(a.value), comparableQualifier(b.value));
    case 'c': {
      const result = compareString(a, b.stringPart);
      if (result !== 0) return result;
      if (compareString(a, null) === 0) return -compareNumber(b.digitPart, null);
      return -1;
    }
    default:
      return -compareList(b, a);
  }
}

function compareCombination(a: CombinationItem, b: Item | null): number {
  if (b === null) {
    const result = compareString(a.stringPart, null);
    return result === 0 ? compareNumber(a.digitPart, null) : result;
  }
  switch (b.t) {
    case 'n':
      return -1;
    case 's': {
      const result = compareString(a.stringPart, b);
      if (result !== 0) return result;
      if (compareString(a.stringPart, null) === 0) return compareNumber(a.digitPart, null);
      return 1; // X1 > X
    }
    case 'c': {
      const result = compareString(a.stringPart, b.stringPart);
      return result === 0 ? compareNumber(a.digitPart, b.digitPart) : result;
    }
    default:
      return -compareList(b, a);
  }
}

function compareList(a: ListItem, b: Item | null): number {
  const items = a.items;
  if (b === null) {
    for (const item of items) {
      const r = compareItem(item, null);
      if (r !== 0) return r;
    }
    return 0;
  }
  switch (b.t) {
    case 'n':
      return -1; // 1-1 < 1.0.x
    case 's':
    case 'c': {
      let r = items.length === 0 ? -compareItem(b, null) : compareItem(items[0]!, b);
      for (let i = 1; r === 0 && i < items.length; i++) r = compareItem(items[i]!, null);
      return r;
    }
    default: {
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

function compareItem(a: Item, b: Item | null): number {
  switch (a.t) {
    case 'n':
      return compareNumber(a, b);
    case 's':
      return compareString(a, b);
    case 'c':
      return compareCombination(a, b);
    default:
      return compareList(a, b);
  }
}

/** The parsed form of a Maven version, or null when ComparableVersion would refuse it. */
function tryParse(version: string): ListItem | null {
  if (version.length === 0 || version.length > MAX_MAVEN_VERSION_LENGTH) return null;
  try {
    return parseMaven(version);
  } catch (err) {
    if (err instanceof Unparsable) return null;
    throw err;
  }
}

function parseOrThrow(version: string): ListItem {
  const parsed = tryParse(version);
  if (parsed === null) throw new InvalidVersionError('maven', version, 'not a version Maven can parse');
  return parsed;
}

/** Orders two Maven versions as `ComparableVersion.compareTo` does. */
export function compareMavenVersions(a: string, b: string): -1 | 0 | 1 {
  const r = compareList(parseOrThrow(a), parseOrThrow(b));
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
 * Maven artifact versions, ordered as Maven 4's `ComparableVersion` (also maven-artifact 3.9.x,
 * after MNG-7559, MNG-7644, MNG-7714): `1.0.0.RC1 < 1.0.0-RC2`, `2.0.X == 2-X`, qualifiers
 * alpha < beta < milestone < rc = cr < snapshot < (release = ga = final) < sp < others. Any
 * string Maven can parse is a version (up to 256 characters). Ranges: Maven range syntax
 * (`[1.0,2.0)`, `(,1.0],[1.2,)`), or comparators (`>= 1.0, < 2.0`) as GitHub advisories write them.
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
