import test from 'ava';
import { goVersion, isGoPseudoVersion, parseGoVersion } from '../../src/ecosystems/go/go-version.ts';
import { InvalidVersionError } from '../../src/ecosystems/version-scheme.ts';
import { NO_FIXTURES } from '../helpers/fixtures.ts';
import { describeRow, expectedSign, flip, readVersionTsv } from './read-tsv.ts';

// osv-scalibr's semver list is the one it uses for Go; node-semver's own rows use npm's loose syntax.
const rows = readVersionTsv('semver.tsv').filter((row) => row.source!.startsWith('google/osv-scalibr'));

(rows.length > 0 ? test : test.skip)(`the osv-scalibr SemVer rows of semver.tsv${rows.length > 0 ? '' : NO_FIXTURES}`, (t) => {
  const wrong = rows.filter((row) => goVersion.compare(row.a!, row.b!) !== expectedSign(row.expected!)).map(describeRow);
  t.deepEqual(wrong, []);
});

test('x/mod/semver cases: shorthands, pre-releases, build metadata', (t) => {
  const cases: Array<[string, string, -1 | 0 | 1]> = [
    ['v1', 'v1.0.0', 0],
    ['v1.2', 'v1.2.0', 0],
    ['v1.2.3', '1.2.3', 0], // OSV writes Go versions without the v
    ['v1.0.0-alpha', 'v1.0.0-alpha.1', -1],
    ['v1.0.0-alpha.1', 'v1.0.0-alpha.beta', -1],
    ['v1.0.0-beta.2', 'v1.0.0-beta.11', -1],
    ['v1.0.0-rc.1', 'v1.0.0', -1],
    ['v1.0.0', 'v1.0.1', -1],
    ['v1.10.0', 'v1.9.9', 1],
    ['v2.0.0+incompatible', 'v2.0.0', 0], // +incompatible is build metadata: ignored
    ['v2.0.1+incompatible', 'v2.0.0', 1],
    ['v1.2.3+meta', 'v1.2.3+other', 0],
  ];
  for (const [a, b, expected] of cases) {
    t.is(goVersion.compare(a, b), expected, `${a} vs ${b}`);
    t.is(goVersion.compare(b, a), flip(expected), `${b} vs ${a}`);
  }
  for (const bad of ['', 'v', 'v01.2.3', 'v1.02.3', 'v1.2.3.4', 'v1-pre', 'v1.2+meta', 'v1.2.3-01', 'v1.2.3-', 'v1.2.3+', 'v1.2.3-a..b', '(devel)', 'go1.21.3']) {
    t.false(goVersion.isValid(bad), bad);
    t.throws(() => goVersion.compare(bad, 'v1.0.0'), { instanceOf: InvalidVersionError });
  }
  t.deepEqual(parseGoVersion('v1.2.3-pre.1+incompatible'), { major: '1', minor: '2', patch: '3', prerelease: ['pre', '1'], build: 'incompatible' });
});

test('Go pseudo-versions (go.dev/ref/mod#pseudo-versions) order as pre-releases', (t) => {
  const noTag = 'v0.0.0-20191109021931-daa7c04131f5'; // no earlier tag
  const afterRelease = 'v1.2.4-0.20191109021931-daa7c04131f5'; // after v1.2.3
  const afterPre = 'v1.2.3-pre.0.20191109021931-daa7c04131f5'; // after v1.2.3-pre
  for (const v of [noTag, afterRelease, afterPre, 'v2.0.0-20200101000000-abcdefabcdef+incompatible']) t.true(isGoPseudoVersion(v), v);
  for (const v of ['v1.2.3', 'v1.2.3-pre', 'v1.2.4-0.2019-daa7c04131f5']) t.false(isGoPseudoVersion(v), v);
  t.is(goVersion.compare(noTag, 'v0.0.1'), -1);
  t.is(goVersion.compare(noTag, 'v0.0.0-20200101000000-000000000000'), -1, 'later commits sort later');
  t.is(goVersion.compare('v1.2.3', afterRelease), -1);
  t.is(goVersion.compare(afterRelease, 'v1.2.4'), -1);
  t.is(goVersion.compare('v1.2.3-pre', afterPre), -1);
  t.is(goVersion.compare(afterPre, 'v1.2.3'), -1);
});

test('Go ranges', (t) => {
  t.true(goVersion.satisfies('v1.3.0', '>= v1.2.0, < v1.4.1'));
  t.true(goVersion.satisfies('1.4.1-0.20200101000000-abcdefabcdef', '< 1.4.1'));
  t.false(goVersion.satisfies('v2.0.0+incompatible', '< 2.0.0'));
  t.throws(() => goVersion.satisfies('v1.0.0', '< v1.0.0-'), { instanceOf: InvalidVersionError });
});
