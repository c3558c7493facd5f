import test from 'ava';
import { compareRpmNevra, parseRpmNevra } from '../../src/ecosystems/rpm/rpm-version-nevra.ts';
import { parseRpmEvr, rpmVersion, rpmvercmp } from '../../src/ecosystems/rpm/rpm-version.ts';
import { InvalidVersionError } from '../../src/ecosystems/version-scheme.ts';
import { NO_FIXTURES } from '../helpers/fixtures.ts';
import { describeRow, expectedSign, flip, readVersionTsv } from './read-tsv.ts';

const rows = readVersionTsv('rpm.tsv');
const nevraRows = readVersionTsv('rpm-nevra.tsv');
const oddities = readVersionTsv('rpm-oddities-not-asserted.tsv');

(rows.length > 0 ? test : test.skip)(`every row of rpm.tsv (rpmvercmp.at, claircore, osv-scalibr)${rows.length > 0 ? '' : NO_FIXTURES}`, (t) => {
  const wrong = rows.filter((row) => rpmVersion.compare(row.a!, row.b!) !== expectedSign(row.expected!)).map(describeRow);
  t.deepEqual(wrong, []);
  t.true(rows.length > 10);
});

(nevraRows.length > 0 ? test : test.skip)(`every row of rpm-nevra.tsv (full NEVRA strings)${nevraRows.length > 0 ? '' : NO_FIXTURES}`, (t) => {
  const wrong = nevraRows.filter((row) => compareRpmNevra(row.a!, row.b!) !== expectedSign(row.expected!)).map(describeRow);
  t.deepEqual(wrong, []);
});

(oddities.length > 0 ? test : test.skip)(`the oddities rpm documents but does not assert come out as rpmvercmp computes them${oddities.length > 0 ? '' : NO_FIXTURES}`, (t) => {
  // 1b.fc17 vs 1.fc17: segments 1 = 1, then "b" against "fc" (the '.' is a separator): b < fc.
  for (const row of oddities) t.is(rpmvercmp(row.a!, row.b!), expectedSign(row.expected!), describeRow(row));
});

test('rpm documentation cases: tilde and caret (rpm versioning guidelines)', (t) => {
  const cases: Array<[string, string, -1 | 0 | 1]> = [
    ['1.0~rc1', '1.0', -1], // ~ sorts before everything, the end included
    ['1.0~rc1', '1.0~rc2', -1],
    ['1.0~rc1~git123', '1.0~rc1', -1],
    ['1.0^', '1.0', 1], // ^ sorts after the end
    ['1.0^git1', '1.0', 1],
    ['1.0^git1', '1.0.1', -1], // ... but before anything else
    ['1.0^git1', '1.0^git2', -1],
    ['1.0~rc1^git1', '1.0~rc1', 1],
    ['1.0~rc1^git1', '1.0', -1],
    ['2.0.1a', '2.0.1', 1],
    ['5.5p1', '5.5p10', -1],
    ['10xyz', '10.1xyz', -1],
    ['xyz.4', '8', -1], // numeric segments beat alphabetic ones
    ['1.010', '1.9', 1],
    ['1.001', '1.1', 0],
    ['1.0', '1_0', 0], // separators are all alike
  ];
  for (const [a, b, expected] of cases) {
    t.is(rpmVersion.compare(a, b), expected, `${a} vs ${b}`);
    t.is(rpmVersion.compare(b, a), flip(expected), `${b} vs ${a}`);
  }
});

test('rpm EVR: epochs, (none), missing release', (t) => {
  t.is(rpmVersion.compare('1:1.0-1', '2.0-1'), 1);
  t.is(rpmVersion.compare('0:1.0-1', '1.0-1'), 0);
  t.is(rpmVersion.compare('(none):1.0-1', '1.0-1'), 0);
  t.is(rpmVersion.compare(':1.0-1', '1.0-1'), 0);
  t.is(rpmVersion.compare('01:1.0', '1:1.0'), 0); // epochs compare as numbers
  t.is(rpmVersion.compare('1.0-2.el9', '1.0-10.el9'), -1);
  t.is(rpmVersion.compare('1.0', '1.0-3.el9'), 0, 'without a release on one side, only epoch and version count');
  t.is(rpmVersion.compare('1.1', '1.0-3.el9'), 1);
  t.deepEqual(parseRpmEvr('2:1.2-3-4.el8'), { epoch: '2', version: '1.2-3', release: '4.el8' });
  for (const bad of ['', '1:', '1.0 -1', '-1', '1.0\t', 'x'.repeat(2000)]) {
    t.false(rpmVersion.isValid(bad), JSON.stringify(bad));
    t.throws(() => rpmVersion.compare(bad, '1.0'), { instanceOf: InvalidVersionError });
  }
});

test('rpm NEVRA strings (claircore rpmver cases)', (t) => {
  t.deepEqual(parseRpmNevra('fonts-filesystem-1:2.0.5-12.fc39.noarch'), { name: 'fonts-filesystem', epoch: '1', version: '2.0.5', release: '12.fc39', arch: 'noarch' });
  t.deepEqual(parseRpmNevra('1:2.0.5-12.fc39'), { name: null, epoch: '1', version: '2.0.5', release: '12.fc39', arch: null });
  const cases: Array<[string, string, -1 | 0 | 1]> = [
    ['fonts-filesystem-1:2.0.6-12.fc39.noarch', 'fonts-filesystem-1:2.0.5-12.fc39.noarch', 1],
    ['1:1-1', '0:99-99', 1],
    ['1-1', '1-2', -1],
    ['a-1-1', '1-1', 1], // having an optional part sorts later
    ['1-1', '1-1-a', -1],
    ['1-1.aarch64', '1-1', 1],
    ['a-1-1', 'b-1-1', -1],
    ['a-1-1.aarch64', 'a-1-1.riscv64', -1],
  ];
  for (const [a, b, expected] of cases) t.is(compareRpmNevra(a, b), expected, `${a} vs ${b}`);
  t.throws(() => parseRpmNevra('nodash'), { instanceOf: InvalidVersionError });
});

test('rpm ranges', (t) => {
  t.true(rpmVersion.satisfies('1:2.3-1.el9', '>= 1:2.3-1, < 1:2.4'));
  t.false(rpmVersion.satisfies('2.3-1.el9', '>= 1:2.3-1'));
  t.true(rpmVersion.satisfies('2.4~rc1-1', '< 2.4'));
  t.true(rpmVersion.satisfies('2.4-1', '= 2.4'));
  t.throws(() => rpmVersion.satisfies('2.4-1', '<'));
});
