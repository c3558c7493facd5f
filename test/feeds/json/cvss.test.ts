import test from 'ava';
import { readFileSync } from 'node:fs';
import { scoreCvssV2 } from '../../../src/ecosystems/cvss/cvss-v2.ts';
import { scoreCvssV3 } from '../../../src/ecosystems/cvss/cvss-v3.ts';
import { scoreCvssV4 } from '../../../src/ecosystems/cvss/cvss-v4.ts';
import { InvalidCvssError } from '../../../src/ecosystems/cvss/invalid-cvss-error.ts';
import { scoreCvssVector, severityFromCvss } from '../../../src/ecosystems/cvss/score-cvss-vector.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;

/** Lines of a claircore test list: `vector [score] [# comment]`, blank and `#` lines dropped. */
function list(name: string): Array<{ vector: string; rest: string }> {
  return readFileSync(fixture('feeds', 'cvss-test-vectors', name), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [vector = '', ...rest] = line.split(/\s+/);
      return { vector, rest: rest.join(' ') };
    });
}

function scoreList(t: import('ava').ExecutionContext, name: string, score: (v: string) => number): void {
  const rows = list(name);
  t.true(rows.length >= 10, `${name} has rows`);
  for (const { vector, rest } of rows) {
    const expected = Number(rest.split(/\s+/)[0]);
    t.is(score(vector), expected, `${vector} (${rest})`);
  }
}

function errorList(t: import('ava').ExecutionContext, name: string, parse: (v: string) => unknown): void {
  const rows = list(name);
  let ok = 0;
  let bad = 0;
  for (const { vector, rest } of rows) {
    if (rest.includes('#OK')) {
      t.notThrows(() => parse(vector), vector);
      ok += 1;
    } else {
      t.throws(() => parse(vector), { instanceOf: InvalidCvssError }, vector);
      bad += 1;
    }
  }
  t.true(ok > 0 && bad > 0);
}

maybe(`CVSS v2 scores match claircore's v2_score.list (base, temporal, environmental)${suffix}`, (t) => {
  scoreList(t, 'v2_score.list', (v) => scoreCvssV2(v).score);
});

maybe(`CVSS v3.0 scores match v30_score.list${suffix}`, (t) => {
  scoreList(t, 'v30_score.list', (v) => scoreCvssV3(v).score);
});

maybe(`CVSS v3.1 scores match v31_score.list, including temporal and environmental ones${suffix}`, (t) => {
  scoreList(t, 'v31_score.list', (v) => scoreCvssV3(v).score);
});

maybe(`CVSS v4.0 scores match v4_score.list${suffix}`, (t) => {
  scoreList(t, 'v4_score.list', (v) => scoreCvssV4(v).score);
});

maybe(`invalid CVSS v2 vectors are refused, valid ones accepted (v2_error.list)${suffix}`, (t) => {
  errorList(t, 'v2_error.list', scoreCvssV2);
});

maybe(`invalid CVSS v3 vectors are refused, valid ones accepted (v3_error.list)${suffix}`, (t) => {
  errorList(t, 'v3_error.list', scoreCvssV3);
});

maybe(`invalid CVSS v4 vectors are refused, valid ones accepted (v4_error.list)${suffix}`, (t) => {
  errorList(t, 'v4_error.list', scoreCvssV4);
});

maybe(`every round-trip vector parses${suffix}`, (t) => {
  for (const { vector } of list('v2_roundtrip.list')) t.notThrows(() => scoreCvssV2(vector), vector);
  for (const { vector } of list('v3_roundtrip.list')) t.notThrows(() => scoreCvssV3(vector), vector);
  for (const { vector } of list('v4_roundtrip.list')) t.notThrows(() => scoreCvssV4(vector), vector);
});

test('v3 base, temporal and environmental scores are reported separately', (t) => {
  const s = scoreCvssV3('CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:N/E:F/RL:X');
  t.is(s.baseScore, 3.8);
  t.is(s.temporalScore, 3.7);
  t.is(s.environmentalScore, null);
  t.is(s.version, '3.1');
});

test('scoreCvssVector takes the base score, tolerates feed quirks and names the version', (t) => {
  // GHSA vectors sometimes carry temporal metrics and a trailing slash
  t.deepEqual(scoreCvssVector('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C/', 'ghsa'), {
    version: '3.1',
    vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C',
    score: 9.8,
    source: 'ghsa',
  });
  t.deepEqual(scoreCvssVector('(AV:N/AC:L/Au:N/C:P/I:P/A:P)'), { version: '2.0', vector: 'AV:N/AC:L/Au:N/C:P/I:P/A:P', score: 7.5 });
  t.is(scoreCvssVector('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N/E:X/CR:X/IR:X/AR:X/MAV:X/MAC:X/MAT:X/MPR:X/MUI:X/MVC:X/MVI:X/MVA:X/MSC:X/MSI:X/MSA:X/S:X/AU:X/R:X/V:X/RE:X/U:X').score, 6.9);
  t.throws(() => scoreCvssVector('CVSS:9.9/AV:N'), { instanceOf: InvalidCvssError, message: /unknown CVSS version/ });
  t.throws(() => scoreCvssVector(`CVSS:3.1/${'AV:N/'.repeat(200)}`), { instanceOf: InvalidCvssError, message: /too long/ });
});

test('severities follow each version’s rating scale', (t) => {
  t.is(severityFromCvss({ version: '3.1', score: 9.8 }), 'Critical');
  t.is(severityFromCvss({ version: '3.1', score: 7.0 }), 'High');
  t.is(severityFromCvss({ version: '3.0', score: 6.9 }), 'Medium');
  t.is(severityFromCvss({ version: '4.0', score: 0.1 }), 'Low');
  t.is(severityFromCvss({ version: '3.1', score: 0 }), 'Negligible');
  t.is(severityFromCvss({ version: '2.0', score: 10 }), 'High');
  t.is(severityFromCvss({ version: '2.0', score: 4.3 }), 'Medium');
});
