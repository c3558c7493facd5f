import test from 'ava';
import { spawnSync, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { dpkgVersion, parseDpkgVersion } from '../../src/ecosystems/dpkg/dpkg-version.ts';
import { InvalidVersionError } from '../../src/ecosystems/version-scheme.ts';
import { NO_FIXTURES } from '../helpers/fixtures.ts';
import { describeRow, expectedSign, readVersionTsv } from './read-tsv.ts';

const rows = readVersionTsv('dpkg.tsv');
const HAVE_DPKG = spawnSync('dpkg', ['--version'], { stdio: 'ignore' }).status === 0;

(rows.length > 0 ? test : test.skip)(`every row of dpkg.tsv (dpkg's own tests and dpkg-generated pairs)${rows.length > 0 ? '' : NO_FIXTURES}`, (t) => {
  const wrong = rows.filter((row) => dpkgVersion.compare(row.a!, row.b!) !== expectedSign(row.expected!)).map(describeRow);
  t.deepEqual(wrong, []);
  t.true(rows.length > 700);
});

test('dpkg documentation cases: epochs, tilde, revisions', (t) => {
  const cases: Array<[string, string, -1 | 0 | 1]> = [
    ['1:0.1', '2.0', 1], // the epoch wins over everything
    ['0:1.0', '1.0', 0], // a missing epoch is 0
    ['1.0~rc1', '1.0', -1], // ~ sorts before the end of the string
    ['1.0~~', '1.0~~a', -1],
    ['1.0~~a', '1.0~', -1],
    ['1.0~', '1.0', -1],
    ['1.0', '1.0a', -1],
    ['1.0', '1.0-0', 0], // a missing revision is 0
    ['1.0-1', '1.0-1ubuntu0.1', -1],
    ['2.30-1', '2.4-1', 1], // numbers compare as numbers
    ['1.0+b1', '1.0', 1],
    ['1.0.1', '1.0+b1', 1], // '.' and '+' are both non-letters and sort by code: '+' (43) < '.' (46)
    ['7.6p2-4', '7.6-0', 1],
    ['1.2.3-1-2', '1.2.3-1-10', -1], // the revision starts after the last hyphen
    ['1:2:3', '1:2:4', -1], // colons are allowed in the upstream version when there is an epoch
    [' 1.0 ', '1.0', 0], // surrounding spaces are ignored, as dpkg ignores them
  ];
  for (const [a, b, expected] of cases) t.is(dpkgVersion.compare(a, b), expected, `${a} vs ${b}`);
});

test('dpkg rejects what dpkg rejects or warns about', (t) => {
  for (const bad of ['', ' ', 'a1.0', ':1.0', '1:', 'x:1.0', '1.0-', '1.0 1', '1.0_1', '1.0-1:2', '99999999999:1', '1.0é', 'x'.repeat(2000)]) {
    t.false(dpkgVersion.isValid(bad), JSON.stringify(bad));
    t.throws(() => dpkgVersion.compare(bad, '1.0'), { instanceOf: InvalidVersionError });
  }
  t.deepEqual(parseDpkgVersion('3:1.2-3-4'), { epoch: 3, upstream: '1.2-3', revision: '4' });
});

test('dpkg ranges: comparators, Debian << and >>, alternatives', (t) => {
  t.true(dpkgVersion.satisfies('1.0-1', '< 1.0-2'));
  t.false(dpkgVersion.satisfies('1.0-2', '< 1.0-2'));
  t.true(dpkgVersion.satisfies('1.0-2', '<= 1.0-2'));
  t.true(dpkgVersion.satisfies('1:1.0', '>> 2.0'));
  t.true(dpkgVersion.satisfies('1.5', '>= 1.0, << 2.0'));
  t.false(dpkgVersion.satisfies('2.0~rc1', '>= 2.0'));
  t.true(dpkgVersion.satisfies('3.0', '< 1.0 || >= 3.0'));
  t.true(dpkgVersion.satisfies('1.0', '1.0-0'));
  t.throws(() => dpkgVersion.satisfies('1.0', '>= '));
  t.throws(() => dpkgVersion.satisfies('1.0', '< 2.0 junk'));
  t.throws(() => dpkgVersion.satisfies('1.0', '< a2'), { instanceOf: InvalidVersionError });
});

/** A deterministic generator of Debian versions that exercise every rule (mulberry32 PRNG). */
function generatedPairs(count: number): Array<[string, string]> {
  let seed = 0x5eed;
  const random = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const pieces = ['0', '1', '2', '9', '10', '01', '007', '.', '.', '~', '~~', '+', 'a', 'b', 'z', 'A', 'rc', 'dfsg', '-'];
  const version = (): string => {
    const epoch = random() < 0.2 ? `${pick(['0', '1', '2', '10'])}:` : '';
    let upstream = pick(['0', '1', '2', '10', '1.0']);
    const n = Math.floor(random() * 5);
    for (let i = 0; i < n; i++) upstream += pick(pieces.slice(0, -1));
    const revision = random() < 0.5 ? `-${pick(['0', '1', '1ubuntu1', '2~bpo1', '1+b1', '1.1'])}` : '';
    return `${epoch}${upstream}${revision}`;
  };
  const pairs: Array<[string, string]> = [];
  while (pairs.length < count) {
    const a = version();
    // Half of the pairs are near-equal: the same version with one small change.
    const b = random() < 0.5 ? version() : a.replace(/[0-9]$/, pick(['0', '1', '00'])) + pick(['', '~', 'a', '.0', '+1']);
    if (dpkgVersion.isValid(a) && dpkgVersion.isValid(b)) pairs.push([a, b]);
  }
  return pairs;
}

(HAVE_DPKG ? test : test.skip)(`agrees with the real dpkg --compare-versions on 300 generated pairs${HAVE_DPKG ? '' : ' (skipped: dpkg is not installed on this machine)'}`, async (t) => {
  const pairs = generatedPairs(300);
  // One shell runs every comparison; versions use only [0-9A-Za-z.+~:-], safe inside single quotes.
  const script = pairs
    .map(([a, b]) => `if dpkg --compare-versions '${a}' lt '${b}'; then echo '<'; elif dpkg --compare-versions '${a}' eq '${b}'; then echo '='; else echo '>'; fi`)
    .join('\n');
  const { stdout } = await promisify(execFile)('sh', ['-c', script], { maxBuffer: 1 << 20 });
  const real = stdout.trim().split('\n');
  t.is(real.length, pairs.length);
  const symbols = { '-1': '<', '0': '=', '1': '>' } as const;
  const disagreements = pairs
    .map(([a, b], i) => ({ a, b, dpkg: real[i], ours: symbols[String(dpkgVersion.compare(a, b)) as '-1' | '0' | '1'] }))
    .filter((row) => row.dpkg !== row.ours);
  t.deepEqual(disagreements, []);
  t.true(new Set(real).size === 3, 'the generated pairs cover <, = and >');
});
