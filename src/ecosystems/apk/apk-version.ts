import { InvalidRangeError, MAX_RANGE_LENGTH } from '../affected-range.ts';
import { InvalidVersionError, type VersionScheme } from '../version-scheme.ts';

/** The longest version string accepted (apk has no limit; real ones are far shorter). */
export const MAX_APK_VERSION_LENGTH = 1024;

// Token kinds, in apk-tools' order (src/version.c): a later kind "ends" a version part.
const INITIAL_DIGIT = 0;
const DIGIT = 1;
const LETTER = 2;
const SUFFIX = 3;
const SUFFIX_NO = 4;
const COMMIT_HASH = 5;
const REVISION_NO = 6;
const END = 7;
const INVALID = 8;

// Suffix values: pre-release suffixes below NONE, post-release ones above.
const SUFFIX_NONE = 5;
const SUFFIXES: ReadonlyMap<string, number> = new Map([
  ['alpha', 1],
  ['beta', 2],
  ['pre', 3],
  ['rc', 4],
  ['cvs', 6],
  ['svn', 7],
  ['git', 8],
  ['hg', 9],
  ['p', 10],
]);

/** A tokenizer over one version string, one token at a time (apk-tools' `token_state`). */
class Tokens {
  token = INITIAL_DIGIT;
  suffix = 0;
  /** Start and end of the token's text in `s`. */
  start = 0;
  end = 0;
  private pos = 0;
  private readonly s: string;

  constructor(s: string) {
    this.s = s;
    this.parseDigits();
  }

  private parseDigits(): void {
    const s = this.s;
    this.start = this.pos;
    while (this.pos < s.length && isDigit(s.charCodeAt(this.pos))) this.pos++;
    this.end = this.pos;
    if (this.end === this.start) this.token = INVALID;
  }

  next(): void {
    const s = this.s;
    if (this.pos >= s.length) {
      this.token = END;
      return;
    }
    const c = s.charCodeAt(this.pos);
    if (c >= 0x61 && c <= 0x7a) {
      // a-z
      if (this.token > DIGIT) return this.invalid();
      this.start = this.pos;
      this.pos++;
      this.end = this.pos;
      this.token = LETTER;
      return;
    }
    if (c === 0x2e || isDigit(c)) {
      if (c === 0x2e) {
        if (this.token > DIGIT) return this.invalid();
        this.pos++;
      }
      if (this.token === INITIAL_DIGIT || this.token === DIGIT) this.token = DIGIT;
      else if (this.token === SUFFIX) this.token = SUFFIX_NO;
      else return this.invalid();
      this.parseDigits();
      return;
    }
    if (c === 0x5f) {
      // _
      if (this.token > SUFFIX_NO) return this.invalid();
      this.pos++;
      this.start = this.pos;
      while (this.pos < s.length && isLower(s.charCodeAt(this.pos))) this.pos++;
      this.end = this.pos;
      const suffix = SUFFIXES.get(s.slice(this.start, this.end));
      if (suffix === undefined) return this.invalid();
      this.suffix = suffix;
      this.token = SUFFIX;
      return;
    }
    if (c === 0x7e) {
      // ~commit hash
      if (this.token >= COMMIT_HASH) return this.invalid();
      this.pos++;
      this.start = this.pos;
      while (this.pos < s.length && isHex(s.charCodeAt(this.pos))) this.pos++;
      this.end = this.pos;
      if (this.end === this.start) return this.invalid();
      this.token = COMMIT_HASH;
      return;
    }
    if (c === 0x2d) {
      // -rN
      if (this.token >= REVISION_NO) return this.invalid();
      if (s.charCodeAt(this.pos + 1) !== 0x72) return this.invalid();
      this.pos += 2;
      this.token = REVISION_NO;
      this.parseDigits();
      return;
    }
    this.invalid();
  }

  private invalid(): void {
    this.token = INVALID;
  }

  text(): string {
    return this.s.slice(this.start, this.end);
  }

  /** The token's digits without leading zeros (numbers are compared as digit strings, no overflow). */
  number(): string {
    let i = this.start;
    while (i < this.end && this.s.charCodeAt(i) === 0x30) i++;
    return this.s.slice(i, this.end);
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isLower(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x61 && c <= 0x66);
}

function compareNumbers(a: string, b: string): -1 | 0 | 1 {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareText(a: string, b: string): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

function tokenCompare(a: Tokens, b: Tokens): -1 | 0 | 1 {
  switch (a.token) {
    case DIGIT: {
      const at = a.text();
      const bt = b.text();
      // A leading zero makes apk compare the digits as text (as Gentoo does).
      if (at.charCodeAt(0) === 0x30 || bt.charCodeAt(0) === 0x30) return compareText(at, bt);
      return compareNumbers(a.number(), b.number());
    }
    case INITIAL_DIGIT:
    case SUFFIX_NO:
    case REVISION_NO:
      return compareNumbers(a.number(), b.number());
    case LETTER:
      return compareText(a.text(), b.text());
    case SUFFIX:
      return a.suffix < b.suffix ? -1 : a.suffix > b.suffix ? 1 : 0;
    default:
      return compareText(a.text(), b.text());
  }
}

/**
 * Whether a string is an apk version as apk-tools 3 validates it:
 * `digit{.digit}...{letter}{_suffix{N}}...{~hash}{-rN}` with suffixes alpha, beta, pre, rc, cvs,
 * svn, git, hg, p.
 */
export function isValidApkVersion(version: string): boolean {
  if (version.length === 0 || version.length > MAX_APK_VERSION_LENGTH) return false;
  const t = new Tokens(version);
  while (t.token < END) t.next();
  return t.token === END;
}

/**
 * apk-tools' `apk_version_compare_fuzzy`: -1, 0 or 1; with `fuzzy`, `a` equals `b` when `b` is a
 * prefix of it (`3.6.9 ~ 3.6`). Throws `InvalidVersionError` for an invalid side.
 */
export function compareApkVersions(a: string, b: string, fuzzy = false): -1 | 0 | 1 {
  if (!isValidApkVersion(a)) throw new InvalidVersionError('apk', a);
  if (!isValidApkVersion(b)) throw new InvalidVersionError('apk', b);
  const ta = new Tokens(a);
  const tb = new Tokens(b);
  while (ta.token === tb.token && ta.token < END) {
    const r = tokenCompare(ta, tb);
    if (r !== 0) return r;
    ta.next();
    tb.next();
  }
  if (ta.token === tb.token) return 0;
  if (tb.token === END && fuzzy) return 0;
  // Same leading parts: the longer version is greater, unless what follows is a pre-release suffix.
  if (ta.token === SUFFIX && ta.suffix < SUFFIX_NONE) return -1;
  if (tb.token === SUFFIX && tb.suffix < SUFFIX_NONE) return 1;
  if (ta.token > tb.token) return -1;
  if (tb.token > ta.token) return 1;
  return 0;
}

const APK_COMPARATOR = /^(<=|>=|<~|>~|==|!=|<|>|=|~)?\s*([^\s<>=!~]\S*)$/;

/**
 * Alpine package versions, ordered as apk-tools 3 orders them (`apk version -t`): numeric parts,
 * a letter, `_alpha`/`_beta`/`_pre`/`_rc` before the release and `_cvs`/`_svn`/`_git`/`_hg`/`_p`
 * after it, `~hash`, then `-rN`. Ranges: comparators joined by `,` (all) and `||` (any), with
 * apk's own operators too: `~` (fuzzy: same prefix), `<~`, `>~`.
 */
export const apkVersion: VersionScheme = {
  name: 'apk',
  compare(a, b) {
    return compareApkVersions(a, b);
  },
  isValid(version) {
    return isValidApkVersion(version);
  },
  satisfies(version, range) {
    if (range.length > MAX_RANGE_LENGTH) throw new InvalidRangeError('apk', range.slice(0, 64), 'range too long');
    let any = false;
    for (const alternative of range.split('||')) {
      let all = true;
      for (const raw of alternative.split(',')) {
        const match = APK_COMPARATOR.exec(raw.trim());
        if (match === null) throw new InvalidRangeError('apk', range, `cannot read comparator ${JSON.stringify(raw.trim())}`);
        const op = match[1] ?? '=';
        const fuzzy = op.includes('~');
        const cmp = compareApkVersions(version, match[2]!, fuzzy);
        if (!apkHolds(op, cmp)) all = false;
      }
      if (all) any = true;
    }
    return any;
  },
};

function apkHolds(op: string, cmp: number): boolean {
  switch (op) {
    case '<':
      return cmp < 0;
    case '<=':
    case '<~':
      return cmp <= 0;
    case '>':
      return cmp > 0;
    case '>=':
    case '>~':
      return cmp >= 0;
    case '!=':
      return cmp !== 0;
    default:
      return cmp === 0;
  }
}
