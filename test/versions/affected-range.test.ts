import test from 'ava';
import { InvalidRangeError, isAffected, satisfiesComparators, type AffectedRecord } from '../../src/ecosystems/affected-range.ts';
import { InvalidVersionError } from '../../src/ecosystems/version-scheme.ts';
import { VERSION_SCHEME_BY_NAME } from '../../src/ecosystems/version-schemes.ts';
import type { FindingState, RangeEvent } from '../../src/ecosystems/vulnerability-record.ts';

const { dpkg, pypi, npm, go, maven, gem, rpm, apk } = VERSION_SCHEME_BY_NAME;

function record(events: RangeEvent[] | null, fixedVersion: string | null = null, state: FindingState = 'fixed'): AffectedRecord {
  return { affectedRange: events === null ? null : { events }, fixedVersion, state };
}

test('one range: introduced 0, fixed (exclusive)', (t) => {
  const r = record([{ introduced: '0' }, { fixed: '2.0.1' }]);
  t.true(isAffected(npm, '0.0.1', r));
  t.true(isAffected(npm, '2.0.1-rc.1', r));
  t.false(isAffected(npm, '2.0.1', r));
  t.false(isAffected(npm, '3.0.0', r));
});

test('several introduced/fixed pairs, given out of order (OSV sorts them)', (t) => {
  // Affected: [1.0, 1.2.5) and [2.0, 2.3.1), and [3.0, ...) with no fix.
  const events: RangeEvent[] = [{ fixed: '2.3.1' }, { introduced: '3.0' }, { introduced: '1.0' }, { fixed: '1.2.5' }, { introduced: '2.0' }];
  const r = record(events);
  const expectations: Array<[string, boolean]> = [
    ['0.9', false],
    ['1.0', true],
    ['1.2.4', true],
    ['1.2.5', false],
    ['1.9', false],
    ['2.0rc1', false],
    ['2.0', true],
    ['2.3.1.dev1', true],
    ['2.3.1', false],
    ['3.0', true],
    ['99', true],
  ];
  for (const [version, affected] of expectations) t.is(isAffected(pypi, version, r), affected, version);
});

test('last_affected is inclusive', (t) => {
  const r = record([{ introduced: '1.0.0' }, { last_affected: '1.4.2' }, { introduced: '2.0.0' }, { last_affected: '2.1.0' }]);
  t.false(isAffected(maven, '0.9', r));
  t.true(isAffected(maven, '1.4.2', r));
  t.false(isAffected(maven, '1.4.3', r));
  t.true(isAffected(maven, '2.1', r), '2.1 = 2.1.0 in Maven');
  t.false(isAffected(maven, '2.1.0.1', r));
});

test('limit caps the range', (t) => {
  const r = record([{ introduced: '0' }, { limit: 'v1.5.0' }]);
  t.true(isAffected(go, 'v1.4.9', r));
  t.false(isAffected(go, 'v1.5.0', r));
});

test('distro schemes: dpkg epochs and tildes, rpm, apk', (t) => {
  const debian = record([{ introduced: '0' }, { fixed: '1:2.4.7-1+deb12u1' }]);
  t.true(isAffected(dpkg, '1:2.4.7-1', debian));
  t.true(isAffected(dpkg, '1:2.4.7-1+deb12u1~bpo1', debian));
  t.false(isAffected(dpkg, '1:2.4.7-1+deb12u1', debian));
  t.true(isAffected(dpkg, '2.5-1', debian), 'no epoch is epoch 0, below 1:');
  t.true(isAffected(rpm, '0:8.0.1-2.el9', record([], '8.0.1-3.el9')));
  t.false(isAffected(apk, '3.0.8-r0', record(null, '3.0.8-r0')));
  t.true(isAffected(apk, '3.0.8_rc1-r0', record(null, '3.0.8-r0')));
});

test('no events: fixedVersion means "< fixedVersion"; "0" means nothing is affected', (t) => {
  t.true(isAffected(gem, '5.2.4.2', record(null, '5.2.4.3')));
  t.false(isAffected(gem, '5.2.4.3', record(null, '5.2.4.3')));
  t.true(isAffected(gem, '5.2.4.2', record([], '5.2.4.3')), 'an empty event list is no events');
  t.false(isAffected(dpkg, '1.0-1', record(null, '0')));
  t.false(isAffected(dpkg, '1.0-1', record([{ introduced: '2.0' }], '5.0')), 'events win over fixedVersion');
});

test('states: not_affected never; unfixed states with nothing to compare always', (t) => {
  t.false(isAffected(dpkg, '1.0-1', record([{ introduced: '0' }], null, 'not_affected')));
  t.false(isAffected(dpkg, '1.0-1', record(null, '2.0', 'not_affected')));
  for (const state of ['not_fixed', 'will_not_fix', 'fix_deferred', 'end_of_life', 'under_investigation'] as const) {
    t.true(isAffected(dpkg, '1.0-1', record(null, null, state)), state);
  }
  t.false(isAffected(dpkg, '1.0-1', record(null, null, 'fixed')), 'fixed without a version gives nothing to compare with');
  t.false(isAffected(dpkg, '3.0-1', record(null, '2.0', 'will_not_fix')), 'a fixed version, when given, still decides');
});

test('invalid versions are errors, not guesses', (t) => {
  t.throws(() => isAffected(npm, 'not-a-version', record([{ introduced: '0' }])), { instanceOf: InvalidVersionError });
  t.throws(() => isAffected(npm, '1.0.0', record([{ introduced: '0' }, { fixed: 'junk' }])), { instanceOf: InvalidVersionError });
  t.throws(() => isAffected(npm, '1.0.0', record(null, 'junk')), { instanceOf: InvalidVersionError });
});

test('satisfiesComparators: ops, commas, alternatives, errors', (t) => {
  t.true(satisfiesComparators(dpkg, '1.0', '>= 1.0, <= 1.0, = 1.0, == 1.0, != 2.0'));
  t.true(satisfiesComparators(dpkg, '1.0', '1.0'));
  t.false(satisfiesComparators(dpkg, '1.0', '> 1.0 || < 1.0'));
  t.true(satisfiesComparators(dpkg, '0.5', '> 1.0 || < 1.0'));
  for (const bad of ['', ',', '>=', '< 1.0 2.0', '=> 1.0', '<> 1.0', 'x'.repeat(5000)]) {
    t.throws(() => satisfiesComparators(dpkg, '1.0', bad), { instanceOf: InvalidRangeError }, JSON.stringify(bad.slice(0, 20)));
  }
});
