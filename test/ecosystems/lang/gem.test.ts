import test from 'ava';
import { createGemspecScanner, gemspecScanner, isInstalledGemspec } from '../../../src/ecosystems/gem/gemspec-scanner.ts';
import { parseGemspec, rubyStringLiteral } from '../../../src/ecosystems/gem/parse-gemspec.ts';
import { HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { ids, layerFor, readFixture, type LayerEntry } from './layer-files.ts';

const fixtureTest = HAVE_FIXTURES ? test : test.skip;
const SKIP = HAVE_FIXTURES ? '' : NO_FIXTURES;
const SPECS = 'usr/local/bundle/specifications';

function ruby(layerPath: string, ...parts: string[]): LayerEntry {
  return { path: layerPath, data: readFixture('pkgdb', 'ruby', ...parts) };
}

fixtureTest(`installed gemspecs: name and version from the block's own assignments${SKIP}`, async (t) => {
  const { layer, unwanted } = await layerFor(gemspecScanner, [
    ruby(`${SPECS}/rake-13.0.3.gemspec`, 'trivy', 'normal00.gemspec'),
    ruby(`${SPECS}/async-1.25.0.gemspec`, 'trivy', 'normal01.gemspec'),
    ruby(`${SPECS}/async-license-1.25.0.gemspec`, 'trivy', 'license.gemspec'),
    ruby(`${SPECS}/test-unit-3.3.7.gemspec`, 'trivy', 'multiple_licenses.gemspec'),
    ruby(`${SPECS}/wrong-variable.gemspec`, 'trivy', 'malformed00.gemspec'),
    ruby(`${SPECS}/missing-version.gemspec`, 'trivy', 'malformed01.gemspec'),
    ruby(`${SPECS}/empty-name.gemspec`, 'trivy', 'empty_name.gemspec'),
    ruby(`usr/local/lib/ruby/gems/3.2.0/specifications/default/bundler-2.1.4.gemspec`, 'syft', 'bundler.gemspec'),
    ruby(`usr/lib/ruby/gems/3.3.0/specifications/formatador-1.1.0.gemspec`, 'syft', 'formatador.gemspec'),
    ruby(`srv/app/formatador.gemspec`, 'syft', 'formatador.gemspec'),
    ruby(`srv/app/Gemfile.lock`, 'syft', 'Gemfile.lock'),
  ]);
  t.deepEqual(unwanted, ['srv/app/formatador.gemspec', 'srv/app/Gemfile.lock'], 'a project gemspec is not an installed gem');
  const result = await gemspecScanner.scan(layer);
  t.deepEqual(ids(result.packages), [
    'formatador@1.1.0',
    'async@1.25.0',
    'async@1.25.0',
    'rake@13.0.3',
    'test-unit@3.3.7',
    'bundler@2.1.4',
  ]);
  t.deepEqual(result.notes, [
    `${SPECS}/empty-name.gemspec: the gem name is empty; skipped`,
    `${SPECS}/missing-version.gemspec: no version could be read for async; skipped`,
    `${SPECS}/wrong-variable.gemspec: no gem name could be read; skipped`,
  ]);
  t.deepEqual(result.packages?.find((p) => p.name === 'rake'), {
    ecosystem: 'gem',
    name: 'rake',
    version: '13.0.3',
    purl: 'pkg:gem/rake@13.0.3',
    path: `${SPECS}/rake-13.0.3.gemspec`,
    extra: { source: 'assignments' },
  });
  t.deepEqual(result.packages?.find((p) => p.name === 'bundler')?.extra, { source: 'assignments', defaultGem: true });
});

test('which paths are installed gem specifications', (t) => {
  t.true(isInstalledGemspec('var/lib/gems/3.0.0/specifications/rack-2.2.3.gemspec'));
  t.true(isInstalledGemspec('usr/lib/ruby/gems/3.3.0/specifications/default/json-2.7.1.gemspec'));
  t.true(isInstalledGemspec('specifications/x-1.gemspec'));
  t.false(isInstalledGemspec('app/x.gemspec'));
  t.false(isInstalledGemspec('gems/specifications/sub/x.gemspec'));
  t.false(isInstalledGemspec('gems/specifications/x.gemspec.bak'));
});

test('Ruby string literals without evaluation', (t) => {
  t.is(rubyStringLiteral('"rake".freeze'), 'rake');
  t.is(rubyStringLiteral("'it\\'s' # comment"), "it's");
  t.is(rubyStringLiteral('%q<power_assert>.freeze, [">= 0"]'), 'power_assert');
  t.is(rubyStringLiteral('%q{a{b}c}'), 'a{b}c');
  t.is(rubyStringLiteral('Gem::Version.new("1.2.3")'), '1.2.3');
  t.is(rubyStringLiteral('"Andr\\u00E9"'), 'André');
  t.is(rubyStringLiteral('"#{s.name}"'), null, 'interpolation is not evaluated');
  t.is(rubyStringLiteral('Foo::VERSION'), null);
  t.is(rubyStringLiteral('"unterminated'), null);
  t.is(rubyStringLiteral('"\\u{110000}"'), null);
});

test('gemspec fields: braces block, platform, stub line fallback, comparisons are not assignments', (t) => {
  t.deepEqual(parseGemspec('Gem::Specification.new { |g|\n  g.name = "nokogiri"\n  g.version = Gem::Version.new("1.16.0")\n  g.platform = "x86_64-linux"\n}\n'), {
    name: 'nokogiri', version: '1.16.0', platform: 'x86_64-linux', source: 'assignments',
  });
  t.deepEqual(parseGemspec('# stub: pg 1.5.4 x86_64-linux lib\nGem::Specification.new do |s|\n  s.name = "pg"\n  s.version = PG::VERSION\nend\n'), {
    name: 'pg', version: '1.5.4', platform: 'x86_64-linux', source: 'stub',
  });
  t.deepEqual(parseGemspec('Gem::Specification.new do |s|\n  if s.version == "1"\n  s.required_rubygems_version = ">= 0"\n  s.name = "x"\nend\n'), {
    name: 'x', version: null, platform: null, source: 'assignments',
  });
  t.deepEqual(parseGemspec('\u0000\u0001 binary junk'), { name: null, version: null, platform: null, source: null });
});

test('hostile gemspecs: oversized, bad names and versions, native gem purl', async (t) => {
  const scanner = createGemspecScanner({ maxBytes: 4096 });
  const spec = (name: string, version: string, more = ''): Buffer =>
    Buffer.from(`Gem::Specification.new do |s|\n  s.name = ${name}\n  s.version = ${version}\n${more}end\n`);
  const { layer, tooBig } = await layerFor(scanner, [
    { path: 'specifications/a.gemspec', data: spec('"a"', '"1.0"', `  s.description = "${'x'.repeat(5000)}"\n`) },
    { path: 'specifications/b.gemspec', data: spec('"b; rm -rf /"', '"1.0"') },
    { path: 'specifications/c.gemspec', data: spec('"c"', '"not a version"') },
    { path: 'specifications/d.gemspec', data: spec('"nokogiri"', '"1.16.0"', '  s.platform = "x86_64-linux".freeze\n') },
  ]);
  t.deepEqual(tooBig, ['specifications/a.gemspec']);
  const result = await scanner.scan(layer);
  t.deepEqual(ids(result.packages), ['nokogiri@1.16.0']);
  t.is(result.packages?.[0]?.purl, 'pkg:gem/nokogiri@1.16.0?platform=x86_64-linux');
  t.deepEqual(result.notes, [
    'specifications/b.gemspec: "b; rm -rf /" is not a valid gem name; skipped',
    'specifications/c.gemspec: "not a version" is not a valid version for c; skipped',
  ]);
});
