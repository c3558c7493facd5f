import test from 'ava';
import { compareMavenVersions, mavenVersion, parseMavenRange } from '../../src/ecosystems/maven/maven-version.ts';
import { InvalidRangeError } from '../../src/ecosystems/affected-range.ts';
import { InvalidVersionError } from '../../src/ecosystems/version-scheme.ts';
import { NO_FIXTURES } from '../helpers/fixtures.ts';
import { describeRow, expectedSign, readVersionTsv } from './read-tsv.ts';

const rows = readVersionTsv('maven.tsv');
const suffix = rows.length > 0 ? '' : NO_FIXTURES;

/**
 * Rows made with an older Maven generation that the current ComparableVersion (Maven 4 and
 * maven-artifact 3.9.x, which Lookout follows) orders differently, with the current answer.
 * osv-scalibr generated its list with maven-artifact 3.8.6, before MNG-7559's combination items;
 * claircore's compare.list predates MNG-7644 (INDEX.md).
 */
const OLDER_GENERATION: ReadonlyMap<string, -1 | 0 | 1> = new Map([
  // 3.9+: "rc2" is one item (rc with 2) and is greater than the bare qualifier "rc" followed by 3.
  ['v3.7.0rc2\tv3.7.0-rc.3', 1],
  // MNG-7644: 2.0.a == 2.0.0.a (3.8 said <).
  ['2.0.a\t2.0.0.a', 0],
]);

(rows.length > 0 ? test : test.skip)(`every row of maven.tsv from apache/maven's ComparableVersionTest${suffix}`, (t) => {
  const own = rows.filter((row) => row.source!.startsWith('apache/maven'));
  const wrong = own.filter((row) => mavenVersion.compare(row.a!, row.b!) !== expectedSign(row.expected!)).map(describeRow);
  t.deepEqual(wrong, []);
  t.true(own.length > 50);
});

(rows.length > 0 ? test : test.skip)(`every other row of maven.tsv, apart from the older-generation ones (with their current answer)${suffix}`, (t) => {
  const others = rows.filter((row) => !row.source!.startsWith('apache/maven'));
  const wrong = others
    .filter((row) => {
      const expected = OLDER_GENERATION.get(`${row.a}\t${row.b}`) ?? expectedSign(row.expected!);
      return mavenVersion.compare(row.a!, row.b!) !== expected;
    })
    .map(describeRow);
  t.deepEqual(wrong, []);
  t.true(others.length > 700);
});

test('ComparableVersionTest cases: MNG-7644, MNG-7714, MNG-5568, MNG-6964, qualifiers', (t) => {
  const less: Array<[string, string]> = [
    ['1.0.0.RC1', '1.0.0-RC2'], // MNG-7644
    ['1.0.0.X1', '1.0.0-X2'],
    ['1.0.final-redhat', '1.0-sp1-redhat'], // MNG-7714
    ['1.0.final-redhat', '1.0-sp-1-redhat'],
    ['1.0.final-redhat', '1.0-sp.1-redhat'],
    ['6.1.0rc3', '6.1.0'], // MNG-5568
    ['6.1.0rc3', '6.1H.5-beta'],
    ['6.1.0', '6.1H.5-beta'],
    ['1-0.alpha', '1'], // MNG-6964
    ['1-0.beta', '1'],
    ['1-0.alpha', '1-0.beta'],
    ['1.0-alpha-1', '1.0-beta-1'],
    ['1.0-SNAPSHOT', '1.0'],
    ['1.0', '1.0-sp'],
    ['1.0-sp', '1.0-whatever'],
    ['1.0-whatever', '1.0.1'],
    ['é', '1'], // a digit is greater than a non-ASCII letter
    ['\uD835\uDFE4', '1'], // ... and than a non-BMP "digit"
    ['\u0668', '1'], // non-ASCII digits are not digits
    ['J', '7'],
    ['aardvark', 'zebra'],
    ['zebra', 'ζέβρα'],
    ['20190126.230843', '1234567890.12345'], // MNG-6572: int < long
    ['1234567890.12345', '123456789012345.1H.5-beta'],
    ['123456789012345.1H.5-beta', '12345678901234567890.1H.5-beta'], // long < big
  ];
  for (const [a, b] of less) {
    t.is(mavenVersion.compare(a, b), -1, `${a} < ${b}`);
    t.is(mavenVersion.compare(b, a), 1, `${b} > ${a}`);
  }
  const equal: Array<[string, string]> = [
    ['2-abc', '2.0.abc'], // MNG-7644
    ['2-abc', '2.0.0.abc'],
    ['2.0.RC', '2.0.0.rc'],
    ['1ga', '1'],
    ['1release', '1'],
    ['1FINAL', '1'],
    ['1cr', '1rc'],
    ['1a1', '1-alpha-1'],
    ['1m3', '1MileStone3'],
    ['1.0.0-ALPHA1', '1.0.0-alpha1'],
    ['1.É', '1.é'],
    ['0000000000000000001', '1'],
    ['1-abcdefghijklmnopqrstuvwxyz', '1-ABCDEFGHIJKLMNOPQRSTUVWXYZ'],
  ];
  for (const [a, b] of equal) t.is(compareMavenVersions(a, b), 0, `${a} == ${b}`);
});

test('Maven validity', (t) => {
  t.true(mavenVersion.isValid('anything-goes.1'));
  for (const bad of ['', 'x'.repeat(257), '1𝟤']) {
    t.false(mavenVersion.isValid(bad), JSON.stringify(bad));
    t.throws(() => mavenVersion.compare(bad, '1'), { instanceOf: InvalidVersionError });
  }
});

test('Maven ranges: brackets, unions, soft versions, comparators', (t) => {
  t.true(mavenVersion.satisfies('1.5', '[1.0,2.0)'));
  t.true(mavenVersion.satisfies('1.0', '[1.0,2.0)'));
  t.false(mavenVersion.satisfies('2.0', '[1.0,2.0)'));
  t.true(mavenVersion.satisfies('2.0-SNAPSHOT', '[1.0,2.0)'));
  t.true(mavenVersion.satisfies('1.0', '(,1.0]'));
  t.false(mavenVersion.satisfies('1.0.1', '(,1.0]'));
  t.true(mavenVersion.satisfies('1.5', '[1.5]'));
  t.false(mavenVersion.satisfies('1.5.1', '[1.5]'));
  t.true(mavenVersion.satisfies('0.9', '(,1.0],[1.2,)'));
  t.false(mavenVersion.satisfies('1.1', '(,1.0],[1.2,)'));
  t.true(mavenVersion.satisfies('3.0', '(,1.0],[1.2,)'));
  t.true(mavenVersion.satisfies('1.5', '1.5'), 'a bare version means exactly that version');
  t.true(mavenVersion.satisfies('2.9.10.4', '>= 2.9.0, < 2.9.10.5'), "GitHub's comparator form");
  t.deepEqual(parseMavenRange('[1.0 , 2.0)'), [{ lower: '1.0', lowerInclusive: true, upper: '2.0', upperInclusive: false }]);
  for (const bad of ['[1.0', '(1.0)', '[2.0,1.0]', '[1.0,1.0)', '[1.0,2.0],[1.5,3.0]', '[1.0,2.0],3.0', '[]']) {
    t.throws(() => mavenVersion.satisfies('1.0', bad), { instanceOf: InvalidRangeError }, bad);
  }
});
