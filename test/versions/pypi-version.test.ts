import test from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import { formatPep440, parsePep440, pypiVersion, satisfiesPep440 } from '../../src/ecosystems/pypi/pypi-version.ts';
import { InvalidVersionError } from '../../src/ecosystems/version-scheme.ts';
import { InvalidRangeError } from '../../src/ecosystems/affected-range.ts';
import { NO_FIXTURES } from '../helpers/fixtures.ts';
import { describeRow, expectedSign, readVersionTsv, signOf } from './read-tsv.ts';

const rows = readVersionTsv('pep440.tsv');
const specifiers = readVersionTsv('pep440-specifiers.tsv');
const suffix = rows.length > 0 ? '' : NO_FIXTURES;
const CHECK = 'pypa_packaging_26.4.dev0_check';

(rows.length > 0 ? test : test.skip)(`every PEP 440 row of pep440.tsv orders as pypa/packaging does${suffix}`, (t) => {
  const valid = rows.filter((row) => row[CHECK] === 'agree');
  const wrong = valid.filter((row) => pypiVersion.compare(row.a!, row.b!) !== expectedSign(row.expected!)).map(describeRow);
  t.deepEqual(wrong, []);
  t.true(valid.length > 1000);
});

(rows.length > 0 ? test : test.skip)(`the INVALID rows of pep440.tsv (legacy versions) are invalid${suffix}`, (t) => {
  const invalid = rows.filter((row) => row[CHECK] !== 'agree');
  t.true(invalid.length > 0);
  for (const row of invalid) {
    t.is(row[CHECK], 'INVALID(InvalidVersion)');
    t.false(pypiVersion.isValid(row.a!) && pypiVersion.isValid(row.b!), describeRow(row));
    t.throws(() => pypiVersion.compare(row.a!, row.b!), { instanceOf: InvalidVersionError });
  }
});

(specifiers.length > 0 ? test : test.skip)(`every row of pep440-specifiers.tsv${suffix}`, (t) => {
  for (const row of specifiers) {
    t.is(row.options, 'prereleases=True', 'our satisfies always considers pre-releases, as these rows do');
    t.is(pypiVersion.satisfies(row.version!, row.range!), row.satisfies === 'true', describeRow(row));
  }
});

test('PEP 440 normalization (packaging test_normalized_versions style)', (t) => {
  const cases: Array<[string, string]> = [
    ['1.0.ALPHA', '1.0a0'],
    ['1.0-beta.2', '1.0b2'],
    ['1.0c1', '1.0rc1'],
    ['1.0.preview3', '1.0rc3'],
    ['1.0-1', '1.0.post1'],
    ['1.0.rev', '1.0.post0'],
    ['1.0r2', '1.0.post2'],
    ['1.0-dev', '1.0.dev0'],
    ['v1.0', '1.0'],
    ['0!1.0', '1.0'],
    ['001!01.002', '1!1.2'],
    ['1.0+ubuntu-1', '1.0+ubuntu.1'],
    [' 1.0\n', '1.0'],
    ['1.0\u2029', '1.0'],
  ];
  for (const [input, normalized] of cases) {
    const parsed = parsePep440(input);
    t.not(parsed, null, input);
    t.is(formatPep440(parsed!), normalized, JSON.stringify(input));
  }
});

test('PEP 440 ordering edge cases', (t) => {
  const ordered = ['1.0.dev0', '1.0a1.dev1', '1.0a1', '1.0a1.post1.dev1', '1.0a1.post1', '1.0b1', '1.0rc1', '1.0', '1.0+abc', '1.0+abc.5', '1.0+1', '1.0+5.abc', '1.0.post1.dev1', '1.0.post1', '1.1.dev1', '1!0.1'];
  for (let i = 0; i < ordered.length; i++) {
    for (let j = 0; j < ordered.length; j++) {
      t.is(pypiVersion.compare(ordered[i]!, ordered[j]!), signOf(i - j), `${ordered[i]} vs ${ordered[j]}`);
    }
  }
  t.is(pypiVersion.compare('1.0', '1.0.0.0'), 0);
  t.is(pypiVersion.compare('1.0+ABC', '1.0+abc'), 0);
  t.is(pypiVersion.compare('99999999999999999999999.1', '99999999999999999999998.9'), 1);
  for (const bad of ['', 'foo', '1.0beta6.1', '1.0.', '1.0+', '1.0+a..b', '1.0 a', '2013-06-01T10:32:51+0200', '1.0-']) {
    t.false(pypiVersion.isValid(bad), JSON.stringify(bad));
  }
});

test('PEP 440 specifiers as advisories use them', (t) => {
  t.true(satisfiesPep440('2.0.5', '==2.0.*'));
  t.false(satisfiesPep440('2.1', '==2.0.*'));
  t.true(satisfiesPep440('2.0', '==2.0.*'));
  t.true(satisfiesPep440('2', '==2.0.*'), 'the candidate is padded with zeros');
  t.true(satisfiesPep440('2.0.5+local', '==2.0.*'), 'prefix matching ignores the local part');
  t.true(satisfiesPep440('1.4.5', '~=1.4.2'));
  t.false(satisfiesPep440('1.5.0', '~=1.4.2'));
  t.true(satisfiesPep440('1.9', '~=1.4'));
  t.false(satisfiesPep440('2.0', '~=1.4'));
  t.false(satisfiesPep440('1.4.1', '~=1.4.2'));
  t.true(satisfiesPep440('1.5', '>=1.0, <2.0'));
  t.true(satisfiesPep440('1.9rc1', '<2.0'), 'pre-releases are considered');
  t.false(satisfiesPep440('2.0rc1', '<2.0'), "packaging: <2.0 excludes 2.0's own pre-releases (OSV events, compared with compare, do not)");
  t.true(satisfiesPep440('1.0.dev0', '<1.0.post1'), '... but not those of an earlier release (packaging 26)');
  t.false(satisfiesPep440('3.1.dev0', '<3.1'), "<3.1 excludes 3.1's own pre-releases");
  t.true(satisfiesPep440('3.0.dev0', '<3.1'));
  t.false(satisfiesPep440('3.1.post1', '>3.1'), ">3.1 excludes 3.1's post-releases");
  t.true(satisfiesPep440('3.1.post1', '>3.1.post0'));
  t.false(satisfiesPep440('3.1+local', '>3.1'));
  t.true(satisfiesPep440('1.0+local', '==1.0'), 'a specifier without a local part ignores the candidate local part');
  t.false(satisfiesPep440('1.0', '==1.0+local'));
  t.true(satisfiesPep440('1.5', '!=1.4'));
  t.true(satisfiesPep440('1.0', '===1.0'));
  t.false(satisfiesPep440('1.0.0', '===1.0'));
  t.true(satisfiesPep440('1.0', ''), 'an empty set matches everything');
  t.true(satisfiesPep440('1.5', '>=1.0,'), 'empty parts are ignored, as packaging ignores them');
  t.true(satisfiesPep440('foo', '===foo'), '=== matches the string as given, version or not');
  t.false(satisfiesPep440('V1.0', '===1.0'));
  for (const bad of ['~=1', '==1.0.*.1', '<1.0.*', '>=1.0+local', '=>1.0', '1.0', 'junk']) {
    t.throws(() => satisfiesPep440('1.0', bad), { instanceOf: InvalidRangeError }, bad);
  }
  t.throws(() => satisfiesPep440('1.0beta6.1', '>=1.0'), { instanceOf: InvalidVersionError });
});

/** Whether python3 with packaging 26 or later (the generation the vectors were checked with) is here. */
const HAVE_PACKAGING =
  spawnSync('python3', ['-c', 'import sys, packaging; sys.exit(0 if int(packaging.__version__.split(".")[0]) >= 26 else 1)'], { stdio: 'ignore' }).status === 0;

// Reads "c<TAB>A<TAB>B" (compare: < = > or ! when either is invalid) and "s<TAB>SPEC<TAB>V"
// (SpecifierSet(SPEC).contains(V, prereleases=True): T or F, R for an invalid specifier set).
const PACKAGING_SCRIPT = `
import sys
from packaging.version import Version, InvalidVersion
from packaging.specifiers import SpecifierSet, InvalidSpecifier
out = []
for line in sys.stdin.read().split("\\n"):
    if not line:
        continue
    kind, x, y = line.split("\\t")
    if kind == "c":
        try:
            a, b = Version(x), Version(y)
            out.append("<" if a < b else ">" if a > b else "=")
        except InvalidVersion:
            out.append("!")
    else:
        try:
            out.append("T" if SpecifierSet(x).contains(y, prereleases=True) else "F")
        except InvalidSpecifier:
            out.append("R")
sys.stdout.write("\\n".join(out) + "\\n")
`;

/** Deterministic version strings and specifiers mixing every PEP 440 spelling (mulberry32 PRNG). */
function generated(count: number): { pairs: Array<[string, string]>; specs: Array<[string, string]> } {
  let seed = 0x9e9;
  const random = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const release = ['0', '1', '2', '10', '01', '1.0', '1.0.0', '2.0', '1!1.0', '0!1', '1.2.3'];
  const suffixes = ['', 'a1', 'b2', 'rc1', 'c3', 'alpha', 'beta', 'pre', 'preview', '.post1', '-1', '.dev0', 'dev1', '.post0.dev1', '+local', '+abc.5', '+1.a', 'r2', '-dev', '_rc_1', '.RC1', ' ', 'x'];
  const version = (): string => pick(['', 'v', 'V', ' ']) + pick(release) + pick(suffixes) + pick(['', '', pick(suffixes)]);
  const ops = ['==', '!=', '<=', '>=', '<', '>', '~=', '==='];
  const pairs: Array<[string, string]> = [];
  const specs: Array<[string, string]> = [];
  for (let i = 0; i < count; i++) {
    pairs.push([version(), version()]);
    let spec = pick(ops) + pick(release) + pick(['', '.*', 'a1', '.post1', '.dev1', '+local', '']);
    if (random() < 0.3) spec += `,${pick(ops)}${pick(release)}`;
    specs.push([spec, version().trim()]);
  }
  return { pairs, specs };
}

(HAVE_PACKAGING ? test : test.skip)(
  `agrees with the real pypa/packaging on 3,000 generated pairs and specifier checks${HAVE_PACKAGING ? '' : ' (skipped: python3 with packaging 26 or later is not installed)'}`,
  async (t) => {
    const { pairs, specs } = generated(3000);
    const input = [...pairs.map(([a, b]) => `c\t${a}\t${b}`), ...specs.map(([spec, v]) => `s\t${spec}\t${v}`)].join('\n');
    const real = await new Promise<string[]>((resolve, reject) => {
      const child = execFile('python3', ['-c', PACKAGING_SCRIPT], { maxBuffer: 1 << 24, timeout: 60_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout.trimEnd().split('\n'))));
      child.stdin!.end(`${input}\n`);
    });
    t.is(real.length, pairs.length + specs.length);
    const ours = (f: () => string): string => {
      try {
        return f();
      } catch (err) {
        if (err instanceof InvalidRangeError) return 'R';
        if (err instanceof InvalidVersionError) return 'V';
        throw err;
      }
    };
    const disagreements: string[] = [];
    pairs.forEach(([a, b], i) => {
      const r = ours(() => ['<', '=', '>'][pypiVersion.compare(a, b) + 1]!);
      if ((r === 'V' ? '!' : r) !== real[i]) disagreements.push(`compare ${JSON.stringify(a)} ${JSON.stringify(b)}: packaging ${real[i]}, ours ${r}`);
    });
    specs.forEach(([spec, v], i) => {
      const expected = real[pairs.length + i];
      const r = ours(() => (satisfiesPep440(v, spec) ? 'T' : 'F'));
      // packaging answers false for a string that is not a version; Lookout raises InvalidVersionError.
      const agrees = r === expected || (r === 'V' && expected === 'F' && !pypiVersion.isValid(v));
      if (!agrees) disagreements.push(`${JSON.stringify(spec)} contains ${JSON.stringify(v)}: packaging ${expected}, ours ${r}`);
    });
    t.deepEqual(disagreements, []);
    t.true(new Set(real).size >= 6, 'the generated cases cover every answer');
  },
);
