import test from 'ava';
import { npmSatisfies, npmVersion } from '../../src/ecosystems/npm/npm-version.ts';
import { InvalidRangeError } from '../../src/ecosystems/affected-range.ts';
import { InvalidVersionError } from '../../src/ecosystems/version-scheme.ts';
import { NO_FIXTURES } from '../helpers/fixtures.ts';
import { describeRow, expectedSign, readVersionTsv, signOf } from './read-tsv.ts';

const rows = readVersionTsv('semver.tsv');
const ranges = readVersionTsv('semver-ranges.tsv');
const suffix = rows.length > 0 ? '' : NO_FIXTURES;

(rows.length > 0 ? test : test.skip)(`every row of semver.tsv (node-semver fixtures, osv-scalibr)${suffix}`, (t) => {
  // Versions are read strictly and then loosely, so the rows node-semver runs with {loose: true} need no option.
  const wrong = rows.filter((row) => npmVersion.compare(row.a!, row.b!) !== expectedSign(row.expected!)).map(describeRow);
  t.deepEqual(wrong, []);
});

(ranges.length > 0 ? test : test.skip)(`every row of semver-ranges.tsv with its node-semver options${suffix}`, (t) => {
  for (const row of ranges) {
    const options = row.options === '' ? {} : (JSON.parse(row.options!) as Record<string, boolean>);
    const expected = row.satisfies === 'true';
    if (!npmVersion.isValid(row.version!)) {
      // node-semver answers false for a version it cannot read; Lookout says so with an error.
      t.false(expected, describeRow(row));
      t.throws(() => npmSatisfies(row.version!, row.range!, options), { instanceOf: InvalidVersionError });
    } else {
      t.is(npmSatisfies(row.version!, row.range!, options), expected, describeRow(row));
    }
  }
});

test('npm ordering (semver.org precedence)', (t) => {
  const ordered = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.1.0', '2.0.0'];
  for (let i = 0; i < ordered.length; i++) {
    for (let j = 0; j < ordered.length; j++) t.is(npmVersion.compare(ordered[i]!, ordered[j]!), signOf(i - j));
  }
  t.is(npmVersion.compare('1.0.0+build.1', '1.0.0+build.2'), 0, 'build metadata does not count');
  t.is(npmVersion.compare('v1.2.3', '=1.2.3'), 0);
  t.is(npmVersion.compare('1.2.3beta', '1.2.3-beta'), 0, 'loose reading');
  for (const bad of ['', '1', '1.2', 'x.y.z', '1.2.3.4', `1.2.${'9'.repeat(300)}`]) t.false(npmVersion.isValid(bad), bad);
});

test('npm advisory ranges include pre-releases', (t) => {
  t.true(npmVersion.satisfies('1.1.0-rc.1', '<1.1.0'));
  t.false(npmSatisfies('1.1.0-rc.1', '>=1.0.0 <1.1.0', {}), "node-semver's default leaves pre-releases out");
  t.true(npmVersion.satisfies('4.17.20', '<4.17.21'));
  t.true(npmVersion.satisfies('2.5.0', '>=2.0.0 <2.6.0 || >=3.0.0 <3.1.2'));
  t.false(npmVersion.satisfies('3.1.2', '>=2.0.0 <2.6.0 || >=3.0.0 <3.1.2'));
  t.true(npmVersion.satisfies('1.2.3', '^1.0.0'));
  t.true(npmVersion.satisfies('1.2.3', '*'));
  t.true(npmVersion.satisfies('4.17.20', '>= 4.0.0, < 4.17.21'), "GitHub's comma form");
  t.throws(() => npmVersion.satisfies('1.2.3', '>=1.0.0 <2.0.0 blah'), { instanceOf: InvalidRangeError }, 'never silently dropped');
  t.throws(() => npmVersion.satisfies('1.2.3', '>=1.0.0 <<2'), { instanceOf: InvalidRangeError });
  t.throws(() => npmVersion.satisfies('nope', '*'), { instanceOf: InvalidVersionError });
});
