import test from 'ava';
import { apkVersion, compareApkVersions, isValidApkVersion } from '../../src/ecosystems/apk/apk-version.ts';
import { InvalidVersionError } from '../../src/ecosystems/version-scheme.ts';
import { NO_FIXTURES } from '../helpers/fixtures.ts';
import { describeRow, expectedSign, flip, readVersionTsv } from './read-tsv.ts';

const rows = readVersionTsv('apk.tsv');
const validity = readVersionTsv('apk-validity.tsv');
const fuzzy = readVersionTsv('apk-fuzzy-ops.tsv');
const suffix = rows.length > 0 ? '' : NO_FIXTURES;

(rows.length > 0 ? test : test.skip)(`every valid row of apk.tsv orders as apk-tools does${suffix}`, (t) => {
  const valid = rows.filter((row) => isValidApkVersion(row.a!) && isValidApkVersion(row.b!));
  const wrong = valid.filter((row) => apkVersion.compare(row.a!, row.b!) !== expectedSign(row.expected!)).map(describeRow);
  t.deepEqual(wrong, []);
  t.true(valid.length > 700);
});

(rows.length > 0 ? test : test.skip)(`the apk.tsv rows with a version apk-tools 3 refuses are refused, not guessed${suffix}`, (t) => {
  // apk's `version -t` still orders invalid strings by walking tokens up to the bad one, and apk 2
  // and apk 3 walk differently (INDEX.md); Lookout declines to order them instead.
  const invalid = rows.filter((row) => !isValidApkVersion(row.a!) || !isValidApkVersion(row.b!));
  t.deepEqual(
    invalid.map((row) => [row.a, row.b]),
    [
      ['23_foo', '4_beta'], // unknown suffix
      ['1-r-1', '1-r0'], // -r needs a number
      ['6.6.2p1', '6.6.2_p2'], // a digit after a letter (apk 2 allowed it)
      ['.1', '1'], // must start with a digit
      ['5.9.2p1-r1', '5.9.2p1-r2'],
      ['6.6.1p1-r0', '6.6.1p1-r1'],
    ],
  );
  for (const row of invalid) t.throws(() => apkVersion.compare(row.a!, row.b!), { instanceOf: InvalidVersionError });
});

(validity.length > 0 ? test : test.skip)(`every row of apk-validity.tsv${suffix}`, (t) => {
  for (const row of validity) t.is(apkVersion.isValid(row.version!), row.valid === 'true', describeRow(row));
});

(fuzzy.length > 0 ? test : test.skip)(`every row of apk-fuzzy-ops.tsv through satisfies${suffix}`, (t) => {
  for (const row of fuzzy) t.is(apkVersion.satisfies(row.a!, `${row.op} ${row.b}`), row.holds === 'true', describeRow(row));
});

test('apk-tools documentation cases: suffixes, letters, revisions, hashes', (t) => {
  const cases: Array<[string, string, -1 | 0 | 1]> = [
    ['1.0_alpha1', '1.0_beta1', -1],
    ['1.0_beta1', '1.0_pre1', -1],
    ['1.0_pre1', '1.0_rc1', -1],
    ['1.0_rc1', '1.0', -1], // pre-release suffixes sort before the release
    ['1.0', '1.0_cvs1', -1], // post-release suffixes after it
    ['1.0_cvs1', '1.0_svn1', -1],
    ['1.0_svn1', '1.0_git1', -1],
    ['1.0_git1', '1.0_hg1', -1],
    ['1.0_hg1', '1.0_p1', -1],
    ['1.0_p1', '1.0a', -1], // a letter belongs to the number before the suffixes
    ['1.0a', '1.0b', -1],
    ['1.0', '1.0-r1', -1],
    ['1.0-r9', '1.0-r10', -1],
    ['1.0_rc1-r5', '1.0-r0', -1],
    ['1.2.3', '1.2', 1],
    ['1.2_rc1', '1.2', -1],
    ['1.01', '1.1', -1], // a leading zero makes apk compare the digits as text
    ['1.0', '1.00', -1],
    ['2.39.2~a4c1d2-r0', '2.39.2-r0', 1], // ~hash comes after the version, before the revision
    ['2.39.2~a4c1d2', '2.39.2~b0', -1],
    ['1.0_alpha_pre1', '1.0_alpha', -1], // a further pre-release suffix makes it earlier still
    ['99999999999999999999.1', '99999999999999999998.2', 1], // numbers of any size
  ];
  for (const [a, b, expected] of cases) {
    t.is(compareApkVersions(a, b), expected, `${a} vs ${b}`);
    t.is(compareApkVersions(b, a), flip(expected), `${b} vs ${a}`);
  }
});

test('apk validity and ranges', (t) => {
  for (const bad of ['', 'a', '1.0 ', '1.0-r', '1.0-r1-r2', '1.0_foo', '1.0a1', '1.0~', '1.0~XYZ', '1..0', '1.0_']) {
    t.false(apkVersion.isValid(bad), JSON.stringify(bad));
  }
  t.true(apkVersion.satisfies('1.2.3-r4', '< 1.2.3-r5'));
  t.true(apkVersion.satisfies('1.2.3-r4', '>= 1.2, < 1.3'));
  t.false(apkVersion.satisfies('1.3_rc1', '< 1.3_rc1'));
  t.true(apkVersion.satisfies('3.12.8-r1', '~3.12'));
  t.false(apkVersion.satisfies('3.61', '~3.6'));
  t.throws(() => apkVersion.satisfies('1.0', '=> 1.0'));
});
