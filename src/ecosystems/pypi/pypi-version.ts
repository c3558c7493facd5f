import { InvalidRangeError, MAX_RANGE_LENGTH } from '../affected-range.ts';
import { InvalidVersionError, type VersionScheme } from '../version-scheme.ts';
import { memoizeParse } from '../memoize-parse.ts';

/** The longest version string accepted (PEP 440 sets no limit; real ones are far shorter). */
export const MAX_PYPI_VERSION_LENGTH = 1024;

/** A PEP 440 version with its parts normalized as pypa/packaging normalizes them. */
export interface Pep440Version {
  /** Digit strings without leading zeros (`'0'` for zero), compared as numbers of any size. */
  epoch: string;
  release: string[];
  /** `['a' | 'b' | 'rc', number]`, null when absent. */
  pre: [string, string] | null;
  post: string | null;
  dev: string | null;
  /** Lower-cased local segments split on `.`, `-`, `_`; null when absent. */
  local: string[] | null;
}

// Python's `\s` for str patterns: Unicode whitespace as `str.isspace()` sees it.
const WS = '[\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';

// pypa/packaging's VERSION_PATTERN (PEP 440 appendix B), case-insensitive.
const VERSION_BODY =
  'v?' +
  '(?:(?<epoch>[0-9]+)!)?' +
  '(?<release>[0-9]+(?:\\.[0-9]+)*)' +
  '(?<pre>[-_.]?(?<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<pre_n>[0-9]+)?)?' +
  '(?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_.]?(?<post_l>post|rev|r)[-_.]?(?<post_n2>[0-9]+)?))?' +
  '(?<dev>[-_.]?(?<dev_l>dev)[-_.]?(?<dev_n>[0-9]+)?)?' +
  '(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?';
const VERSION = new RegExp(`^${WS}*${VERSION_BODY}${WS}*$`, 'i');

function stripZeros(digits: string): string {
  let i = 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 0x30) i++;
  return digits.slice(i);
}

function compareNumbers(a: string, b: string): -1 | 0 | 1 {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

const PRE_LETTER: Readonly<Record<string, string>> = { alpha: 'a', a: 'a', beta: 'b', b: 'b', c: 'rc', pre: 'rc', preview: 'rc', rc: 'rc' };

/**
 * Parses a version as `packaging.version.Version` does, or returns null for a string that is not
 * PEP 440 (legacy versions such as `1.0beta6.1` or dates with `T`). Surrounding whitespace is
 * allowed, as packaging allows it.
 */
export const parsePep440: (input: string) => Pep440Version | null = memoizeParse(parseUncached);

function parseUncached(input: string): Pep440Version | null {
  if (input.length > MAX_PYPI_VERSION_LENGTH) return null;
  const m = VERSION.exec(input);
  if (m === null) return null;
  const g = m.groups!;
  const release = g.release!.split('.').map(stripZeros);
  const pre: [string, string] | null = g.pre_l === undefined ? null : [PRE_LETTER[g.pre_l.toLowerCase()]!, stripZeros(g.pre_n ?? '0')];
  let post: string | null = null;
  if (g.post_n1 !== undefined) post = stripZeros(g.post_n1);
  else if (g.post_l !== undefined) post = stripZeros(g.post_n2 ?? '0');
  const dev = g.dev_l === undefined ? null : stripZeros(g.dev_n ?? '0');
  const local = g.local === undefined ? null : g.local.toLowerCase().split(/[-_.]/);
  return { epoch: stripZeros(g.epoch ?? '0'), release, pre, post, dev, local };
}

function parseOrThrow(version: string): Pep440Version {
  const parsed = parsePep440(version);
  if (parsed === null) throw new InvalidVersionError('pypi', version, 'not a PEP 440 version');
  return parsed;
}

function compareRelease(a: readonly string[], b: readonly string[]): -1 | 0 | 1 {
  // Trailing zeros do not count: 1.0 == 1.0.0.
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const r = compareNumbers(a[i] ?? '0', b[i] ?? '0');
    if (r !== 0) return r;
  }
  return 0;
}

/** Rank of the pre-release part in packaging's `_cmpkey`: dev-only releases first, finals last. */
function preRank(v: Pep440Version): number {
  if (v.pre === null && v.post === null && v.dev !== null) return -1;
  if (v.pre === null) return 1;
  return 0;
}

function compareLocal(a: readonly string[] | null, b: readonly string[] | null): -1 | 0 | 1 {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const xn = /^[0-9]+$/.test(x);
    const yn = /^[0-9]+$/.test(y);
    // Numeric segments sort after alphanumeric ones; numbers numerically, text lexically.
    if (xn !== yn) return xn ? 1 : -1;
    const r = xn ? compareNumbers(stripZeros(x), stripZeros(y)) : x < y ? -1 : x > y ? 1 : 0;
    if (r !== 0) return r;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Orders two parsed versions as `packaging.version.Version` does (its `_cmpkey`). */
export function comparePep440(a: Pep440Version, b: Pep440Version): -1 | 0 | 1 {
  let r = compareNumbers(a.epoch, b.epoch) || compareRelease(a.release, b.release);
  if (r !== 0) return r;
  const ra = preRank(a);
  const rb = preRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (ra === 0) {
    const [la, na] = a.pre!;
    const [lb, nb] = b.pre!;
    if (la !== lb) return la < lb ? -1 : 1; // 'a' < 'b' < 'rc'
    r = compareNumbers(na, nb);
    if (r !== 0) return r;
  }
  // No post release sorts first; no dev release sorts last.
  if (a.post !== b.post) {
    if (a.post === null) return -1;
    if (b.post === null) return 1;
    r = compareNumbers(a.post, b.post);
    if (r !== 0) return r;
  }
  if (a.dev !== b.dev) {
    if (a.dev === null) return 1;
    if (b.dev === null) return -1;
    r = compareNumbers(a.dev, b.dev);
    if (r !== 0) return r;
  }
  return compareLocal(a.local, b.local);
}

/** The normalized string form (`str(Version(...))`): `1!2.0rc1.post2.dev3+local.1`. */
export function formatPep440(v: Pep440Version, options: { local?: boolean } = {}): string {
  let s = v.epoch !== '0' ? `${v.epoch}!` : '';
  s += v.release.join('.');
  if (v.pre !== null) s += v.pre[0] + v.pre[1];
  if (v.post !== null) s += `.post${v.post}`;
  if (v.dev !== null) s += `.dev${v.dev}`;
  if (options.local !== false && v.local !== null) s += `+${v.local.join('.')}`;
  return s;
}

function publicOf(v: Pep440Version): Pep440Version {
  return v.local === null ? v : { ...v, local: null };
}

function isPrerelease(v: Pep440Version): boolean {
  return v.pre !== null || v.dev !== null;
}

// pypa/packaging's Specifier regex, one operator family at a time.
const SPEC_PRE = '(?:[-_.]?(?:alpha|beta|preview|pre|a|b|c|rc)[-_.]?[0-9]*)?';
const SPEC_POST = '(?:(?:-[0-9]+)|(?:[-_.]?(?:post|rev|r)[-_.]?[0-9]*))?';
const SPEC_DEV = '(?:[-_.]?dev[-_.]?[0-9]*)?';
const SPEC_LOCAL = '(?:\\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?';
const SPECIFIER = new RegExp(
  `^${WS}*(?:` +
    `(?<arbitrary>===)${WS}*(?<any>[^\\s;)]*)` +
    `|(?<eq>==|!=)${WS}*(?<eqv>v?(?:[0-9]+!)?[0-9]+(?:\\.[0-9]+)*(?:\\.\\*|${SPEC_PRE}${SPEC_POST}${SPEC_DEV}${SPEC_LOCAL}))` +
    `|(?<compat>~=)${WS}*(?<compatv>v?(?:[0-9]+!)?[0-9]+(?:\\.[0-9]+)+${SPEC_PRE}${SPEC_POST}${SPEC_DEV})` +
    `|(?<cmp><=|>=|<|>)${WS}*(?<cmpv>v?(?:[0-9]+!)?[0-9]+(?:\\.[0-9]+)*${SPEC_PRE}${SPEC_POST}${SPEC_DEV})` +
    `)${WS}*$`,
  'i',
);

/** One parsed PEP 440 specifier: `(version, string as given) => boolean`; `arbitrary` for `===`. */
interface Clause {
  arbitrary: boolean;
  test: (v: Pep440Version | null, raw: string) => boolean;
}

/** packaging's `_version_split` on a normalized version: epoch, release parts, `rc1` split into `rc`, `1`. */
function versionSplit(normalized: string): string[] {
  const bang = normalized.lastIndexOf('!');
  const result = [bang === -1 ? '0' : normalized.slice(0, bang)];
  for (const item of normalized.slice(bang + 1).split('.')) {
    const m = /^([0-9]+)((?:a|b|c|rc)[0-9]+)$/.exec(item);
    if (m) result.push(m[1]!, m[2]!);
    else result.push(item);
  }
  return result;
}

function isDigits(s: string): boolean {
  return /^[0-9]+$/.test(s);
}

/** packaging's prefix match for `==V.*`: pad the candidate's release with zeros, cut it to the spec's length. */
function prefixMatch(v: Pep440Version, specPrefix: string): boolean {
  const spec = versionSplit(formatPep440(parseOrThrow(specPrefix)));
  const candidate = versionSplit(formatPep440(v, { local: false }));
  let i = 0;
  while (i < candidate.length && isDigits(candidate[i]!)) i++;
  let j = 0;
  while (j < spec.length && isDigits(spec[j]!)) j++;
  const padded = [...candidate.slice(0, i), ...Array<string>(Math.max(0, j - i)).fill('0'), ...candidate.slice(i)];
  const shortened = padded.slice(0, spec.length);
  return shortened.length === spec.length && shortened.every((part, k) => part === spec[k]);
}

function parseClause(text: string, whole: string): Clause {
  const m = SPECIFIER.exec(text);
  if (m === null) throw new InvalidRangeError('pypi', whole, `cannot read specifier ${JSON.stringify(text.trim())}`);
  const g = m.groups!;
  if (g.arbitrary !== undefined) {
    // packaging compares the version string exactly as given, case aside.
    const target = g.any!.toLowerCase();
    return { arbitrary: true, test: (_v, raw) => raw.toLowerCase() === target };
  }
  const clause = (test: (v: Pep440Version) => boolean): Clause => ({ arbitrary: false, test: (v) => v !== null && test(v) });
  if (g.eq !== undefined) {
    const spec = g.eqv!;
    const negate = g.eq === '!=';
    if (spec.endsWith('.*')) {
      const prefix = spec.slice(0, -2);
      parseOrThrow(prefix);
      return clause((v) => prefixMatch(v, prefix) !== negate);
    }
    const target = parseOrThrow(spec);
    return clause((v) => (comparePep440(target.local === null ? publicOf(v) : v, target) === 0) !== negate);
  }
  if (g.compat !== undefined) {
    const target = parseOrThrow(g.compatv!);
    // ~=V.N means >=V.N and ==V.*: drop pre/post/dev, then the last release part.
    const prefix = (target.epoch !== '0' ? `${target.epoch}!` : '') + target.release.slice(0, -1).join('.');
    return clause((v) => comparePep440(publicOf(v), target) >= 0 && prefixMatch(v, prefix));
  }
  const op = g.cmp!;
  const target = parseOrThrow(g.cmpv!);
  switch (op) {
    case '<=':
      return clause((v) => comparePep440(publicOf(v), target) <= 0);
    case '>=':
      return clause((v) => comparePep440(publicOf(v), target) >= 0);
    case '<': {
      // "<V must not allow a pre-release of V unless V is one": nothing from V's earliest pre-release (V.dev0) up.
      const earliest: Pep440Version = { ...target, dev: '0', local: null };
      return clause((v) => comparePep440(v, target) < 0 && (isPrerelease(target) || !isPrerelease(v) || comparePep440(v, earliest) < 0));
    }
    default:
      return clause((v) => {
        if (comparePep440(v, target) <= 0) return false;
        // ">V must not allow a post-release of V unless V is one", nor a local version of V.
        if (target.post === null && v.post !== null && comparePep440({ ...v, post: null, dev: null, local: null }, target) === 0) return false;
        if (v.local !== null && comparePep440(publicOf(v), target) === 0) return false;
        return true;
      });
  }
}

/**
 * Whether a version matches a PEP 440 specifier set (`>=1.0,<2.0`, `==2.0.*`, `~=1.4.2`, `!=1.5`,
 * `===odd`), as packaging 26's `SpecifierSet.contains(v, prereleases=True)`: pre-releases are
 * always considered. Empty parts are ignored; an empty set matches everything. A string that is
 * not PEP 440 can only match `===` clauses; with any other clause it is an `InvalidVersionError`
 * (packaging answers false).
 */
export function satisfiesPep440(version: string, specifiers: string): boolean {
  if (specifiers.length > MAX_RANGE_LENGTH) throw new InvalidRangeError('pypi', specifiers.slice(0, 64), 'range too long');
  const clauses = specifiers
    .split(',')
    .filter((part) => part.trim() !== '')
    .map((part) => parseClause(part, specifiers));
  const v = parsePep440(version);
  if (v === null && !clauses.every((clause) => clause.arbitrary)) throw new InvalidVersionError('pypi', version, 'not a PEP 440 version');
  return clauses.every((clause) => clause.test(v, version));
}

/**
 * Python package versions (PEP 440), ordered as pypa/packaging orders them: epoch, release
 * (trailing zeros ignored), dev-only < pre (a < b < rc) < final < post, dev before its base,
 * local versions after the public one. Legacy non-PEP 440 strings are invalid.
 * Ranges: PEP 440 specifier sets (see {@link satisfiesPep440}).
 */
export const pypiVersion: VersionScheme = {
  name: 'pypi',
  compare(a, b) {
    return comparePep440(parseOrThrow(a), parseOrThrow(b));
  },
  isValid(version) {
    return parsePep440(version) !== null;
  },
  satisfies(version, range) {
    return satisfiesPep440(version, range);
  },
};
