import test from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compareMavenVersions, mavenVersion, parseMavenRange } from '../../src/ecosystems/maven/maven-version.ts';
import { InvalidRangeError } from '../../src/ecosystems/affected-range.ts';
import { InvalidVersionError } from '../../src/ecosystems/version-scheme.ts';
import { NO_FIXTURES } from '../helpers/fixtures.ts';
import { describeRow, expectedSign, readVersionTsv } from './read-tsv.ts';

const rows = readVersionTsv('maven.tsv');
const suffix = rows.length > 0 ? '' : NO_FIXTURES;

/**
 * Rows made with Maven 3.8 that Maven 3.9 (MNG-7644), which Lookout follows, orders differently,
 * with the 3.9 answer: claircore's compare.list says 2.0.a < 2.0.0.a (INDEX.md).
 */
const MAVEN_3_8_ROWS: ReadonlyMap<string, -1 | 0 | 1> = new Map([['2.0.a\t2.0.0.a', 0]]);

(rows.length > 0 ? test : test.skip)(`every row of maven.tsv (apache/maven's ComparableVersionTest, claircore, osv-scalibr)${suffix}`, (t) => {
  const wrong = rows
    .filter((row) => mavenVersion.compare(row.a!, row.b!) !== (MAVEN_3_8_ROWS.get(`${row.a}\t${row.b}`) ?? expectedSign(row.expected!)))
    .map(describeRow);
  t.deepEqual(wrong, []);
  t.true(rows.length > 800);
});

test('ComparableVersionTest cases: MNG-7644, MNG-5568, MNG-6964, MNG-6572, qualifiers', (t) => {
  const less: Array<[string, string]> = [
    ['1.0.0.RC1', '1.0.0-RC2'], // MNG-7644
    ['1.0.0.X1', '1.0.0-X2'],
    // MNG-7714 (Maven 4) puts 1.0.final-redhat below 1.0-sp1-redhat; Maven 3.9 (real 3.9.6) does the opposite.
    ['1.0-sp1-redhat', '1.0.final-redhat'],
    ['1.0-sp-1-redhat', '1.0.final-redhat'],
    ['1.0-sp.1-redhat', '1.0.final-redhat'],
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
    ['é', '1'], // a number is greater than a letter
    ['\uD835\uDFE4', '1'], // Maven 3.9 reads chars: a non-BMP "digit" is two letters
    ['J', '7'],
    ['aardvark', 'zebra'],
    ['zebra', 'ζέβρα'],
    ['1', '\u0668'], // Maven 3.9 uses Character.isDigit: ARABIC-INDIC EIGHT is the number 8
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
    ['\u0668', '8'],
  ];
  for (const [a, b] of equal) t.is(compareMavenVersions(a, b), 0, `${a} == ${b}`);
});

/** The newest maven-artifact 3.9.x jar in the local Maven repository, if any (and Java to run it). */
function findMavenArtifactJar(): string | null {
  if (spawnSync('java', ['-version'], { stdio: 'ignore' }).status !== 0) return null;
  const dir = path.join(os.homedir(), '.m2', 'repository', 'org', 'apache', 'maven', 'maven-artifact');
  if (!existsSync(dir)) return null;
  const versions = readdirSync(dir)
    .filter((v) => /^3\.9\.[0-9]+$/.test(v) && existsSync(path.join(dir, v, `maven-artifact-${v}.jar`)))
    .sort((a, b) => compareMavenVersions(a, b));
  const newest = versions.at(-1);
  return newest === undefined ? null : path.join(dir, newest, `maven-artifact-${newest}.jar`);
}

const JAR = findMavenArtifactJar();

// Reads "A<TAB>B" lines, prints < = > as ComparableVersion orders them.
const COMPARE_JAVA = `import org.apache.maven.artifact.versioning.ComparableVersion;
import java.io.*;
public class Compare {
  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
    PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out, "UTF-8")));
    for (String line; (line = in.readLine()) != null;) {
      int tab = line.indexOf('\\t');
      int c = new ComparableVersion(line.substring(0, tab)).compareTo(new ComparableVersion(line.substring(tab + 1)));
      out.println(c < 0 ? "<" : c > 0 ? ">" : "=");
    }
    out.flush();
  }
}
`;

/** Deterministic odd versions: separators, qualifiers, aliases, long numbers, non-ASCII digits and letters. */
function generatedPairs(count: number): Array<[string, string]> {
  let seed = 0x3a7e;
  const random = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const pieces = ['0', '1', '2', '9', '10', '00', '123456789012', '1234567890123456789012', '.', '.', '-', '-', 'a', 'b', 'm', 'alpha', 'beta', 'rc', 'cr', 'snapshot', 'SNAPSHOT', 'ga', 'final', 'release', 'sp', 'x', 'abc', 'RC', 'Final', '\u0668', 'é', '\u{1D7E4}', '_'];
  const version = (): string => {
    let v = '';
    const n = 1 + Math.floor(random() * 7);
    for (let i = 0; i < n; i++) v += pieces[Math.floor(random() * pieces.length)];
    return v;
  };
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < count; i++) {
    const a = version();
    pairs.push([a, random() < 0.6 ? version() : a + ['', '.0', '-0', '.a', '-1', '0', 'a1'][Math.floor(random() * 7)]]);
  }
  return pairs;
}

(JAR !== null ? test : test.skip)(
  `agrees with the real maven-artifact 3.9 ComparableVersion on maven.tsv and 3,000 generated pairs${JAR !== null ? '' : ' (skipped: no java, or no maven-artifact 3.9.x jar in the local Maven repository)'}`,
  async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lookout-maven-'));
    try {
      writeFileSync(path.join(dir, 'Compare.java'), COMPARE_JAVA);
      const pairs: Array<[string, string]> = [...rows.map((row): [string, string] => [row.a!, row.b!]), ...generatedPairs(3000)];
      const real = await new Promise<string[]>((resolve, reject) => {
        const child = execFile('java', ['-cp', JAR!, path.join(dir, 'Compare.java')], { maxBuffer: 1 << 24, timeout: 60_000 }, (err, stdout) =>
          err ? reject(err) : resolve(stdout.trimEnd().split('\n')),
        );
        child.stdin!.end(pairs.map(([a, b]) => `${a}\t${b}\n`).join(''));
      });
      t.is(real.length, pairs.length);
      const symbol = (r: number): string => (r < 0 ? '<' : r > 0 ? '>' : '=');
      const disagreements = pairs.map(([a, b], i) => ({ a, b, maven: real[i], ours: symbol(compareMavenVersions(a, b)) })).filter((d) => d.maven !== d.ours);
      t.deepEqual(disagreements, []);
      t.log(`${pairs.length} pairs agree with ${path.basename(JAR!)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('Maven validity', (t) => {
  t.true(mavenVersion.isValid('anything-goes.1'));
  t.true(mavenVersion.isValid('1𝟤'));
  for (const bad of ['', 'x'.repeat(257)]) {
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
