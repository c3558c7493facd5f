import test from 'ava';
import { gemVersion, parseGemVersion, satisfiesGem } from '../../src/ecosystems/gem/gem-version.ts';
import { InvalidRangeError } from '../../src/ecosystems/affected-range.ts';
import { InvalidVersionError } from '../../src/ecosystems/version-scheme.ts';
import { flip } from './read-tsv.ts';

// Cases from RubyGems' test_gem_version.rb and test_gem_requirement.rb.

test('Gem::Version#<=> (test_spaceship)', (t) => {
  const cases: Array<[string, string, -1 | 0 | 1]> = [
    ['1.0', '1.0.0', 0],
    ['1.0', '1.0.a', 1],
    ['1.8.2', '0.0.0', 1],
    ['1.8.2', '1.8.2.a', 1],
    ['1.8.2.b', '1.8.2.a', 1],
    ['1.8.2.a', '1.8.2', -1],
    ['1.8.2.a10', '1.8.2.a9', 1],
    ['', '0', 0],
    ['0.beta.1', '0.0.beta.1', 0],
    ['0.0.beta', '0.0.beta.1', -1],
    ['0.0.beta', '0.beta.1', -1],
    ['5.a', '5.0.0.rc2', -1],
    ['5.x', '5.0.0.rc2', 1],
    ['1.9.3', '1.9.2.99', 1],
    ['1.9.3', '1.9.3.1', -1],
    ['1.2.b1', '1.2.b.1', 0], // test_equals2
    ['1.0.0-1', '1.0.0', -1], // "-" reads as ".pre."
    ['1.0.0-1', '1.0.0.pre.1', 0],
    ['1.0.0.rc1', '1.0.0.beta2', 1],
    ['1.0.A', '1.0.a', -1], // letters compare as bytes: 'A' < 'a'
    ['2.0.0.pre', '1.99', 1],
    ['99999999999999999999.0', '99999999999999999998.9', 1],
  ];
  for (const [a, b, expected] of cases) {
    t.is(gemVersion.compare(a, b), expected, `${a} vs ${b}`);
    t.is(gemVersion.compare(b, a), flip(expected), `${b} vs ${a}`);
  }
});

test('Gem::Version.new accepts and refuses (test_initialize, test_initialize_bad)', (t) => {
  for (const good of ['1.0', '1.0 ', ' 1.0 ', '1.0\n', '\n1.0\n', '1.0.a', '1-1', '1.0.0-rc.1']) {
    t.true(gemVersion.isValid(good), JSON.stringify(good));
    t.is(gemVersion.compare(good, good.trim()), 0);
  }
  for (const bad of ['junk', '1.0\n2.0', '1..2', '1.2 3.4', '-1', '1.0+build', 'v1.0', '1.0.', 'x'.repeat(300)]) {
    t.false(gemVersion.isValid(bad), JSON.stringify(bad));
    t.throws(() => gemVersion.compare(bad, '1'), { instanceOf: InvalidVersionError });
  }
  t.true(parseGemVersion('1.2.d.42')!.prerelease);
  t.true(parseGemVersion('1.A')!.prerelease);
  t.false(parseGemVersion('22.1.50.0')!.prerelease);
});

test('Gem::Requirement: ~> and lists (ruby-advisory-db style)', (t) => {
  // ~> 1.2 is >= 1.2 and < 2 (bump 1.2 -> 2); ~> 1.2.3 is >= 1.2.3 and < 1.3.
  t.true(satisfiesGem('1.2', '~> 1.2'));
  t.true(satisfiesGem('1.9.9', '~> 1.2'));
  t.false(satisfiesGem('2.0', '~> 1.2'));
  t.false(satisfiesGem('1.1', '~> 1.2'));
  t.true(satisfiesGem('1.2.9', '~> 1.2.3'));
  t.false(satisfiesGem('1.3.0', '~> 1.2.3'));
  t.true(satisfiesGem('1.0.1', '~> 1.0'), 'bump of 1.0 is 2');
  t.true(satisfiesGem('5.0.9', '~> 5'), '~> 5 is >= 5 and < 6');
  t.false(satisfiesGem('6.0', '~> 5'));
  t.false(satisfiesGem('2.0.0.rc1', '~> 1.2'), 'a pre-release is compared by its release: 2.0.0 is not < 2');
  t.true(satisfiesGem('1.3.a', '~> 1.2'));
  t.true(satisfiesGem('5.2.4.5', '~> 5.2.4, >= 5.2.4.3'));
  t.false(satisfiesGem('5.2.4.2', '~> 5.2.4, >= 5.2.4.3'));
  t.true(satisfiesGem('4.2.5.1', '~> 4.2.5, >= 4.2.5.1'));
  t.true(satisfiesGem('1.0', '= 1.0.0'));
  t.true(satisfiesGem('1.0', '1.0'), 'a bare version means =');
  t.true(satisfiesGem('1.1', '!= 1.0'));
  t.true(satisfiesGem('0.9', '< 1.0'));
  t.true(satisfiesGem('1.0', '<= 1.0'));
  t.true(satisfiesGem('1.1', '> 1.0'));
  t.true(satisfiesGem('1.0', '>= 1.0'));
  t.true(gemVersion.satisfies('3.2.1', '>= 3.0, < 3.2.2'));
  for (const bad of ['~>', '=> 1.0', '~> 1.0 junk', '>= 1.0,', 'junk']) {
    t.throws(() => satisfiesGem('1.0', bad), { instanceOf: InvalidRangeError }, bad);
  }
});
