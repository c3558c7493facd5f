import test from 'ava';
import { createNpmScanner, installedPackageDir, isNpmName, npmScanner } from '../../../src/ecosystems/npm/npm-scanner.ts';
import { npmPurl } from '../../../src/ecosystems/npm/npm-purl.ts';
import { HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { ids, layerFor, readFixture, type LayerEntry } from './layer-files.ts';

const fixtureTest = HAVE_FIXTURES ? test : test.skip;
const SKIP = HAVE_FIXTURES ? '' : NO_FIXTURES;
const NM = 'usr/src/app/node_modules';

function node(layerPath: string, ...parts: string[]): LayerEntry {
  return { path: layerPath, data: readFixture('pkgdb', 'node', ...parts) };
}

fixtureTest(`installed packages under node_modules (scoped, nested, pnpm), not the project's own package.json${SKIP}`, async (t) => {
  const entries = [
    node('usr/src/app/package.json', 'trivy-packagejson', 'package.json'),
    node(`${NM}/bootstrap/package.json`, 'trivy-packagejson', 'package.json'),
    node(`${NM}/angular/package.json`, 'trivy-packagejson', 'legacy_package.json'),
    node(`${NM}/tv4/package.json`, 'trivy-packagejson', 'legacy_array_package.json'),
    node(`${NM}/mixed-array-license/package.json`, 'trivy-packagejson', 'mixed_array_license_package.json'),
    node(`${NM}/lodash/package.json`, 'trivy-packagejson', 'analyzer-package.json'),
    node(`${NM}/@scope/invalid/package.json`, 'trivy-packagejson', 'invalid_name.json'),
    node(`${NM}/angular-nover/package.json`, 'trivy-packagejson', 'without_version_package.json'),
    node(`usr/local/lib/node_modules/npm/package.json`, 'syft-pkg-json', 'package.json'),
    node(`usr/local/lib/node_modules/npm/node_modules/function-bind/package.json`, 'syft-pkg-json', 'package-repo-string.json'),
    node(`usr/local/lib/node_modules/npm/node_modules/date-fns/esm/fp/isSaturday/package.json`, 'syft-pkg-json', 'package-partial.json'),
    node(`usr/lib/node_modules/npm-apk-subpackage-with-false-positive/package.json`, 'grype-match-coverage', 'npm-apk-subpackage-with-false-positive', 'package.json'),
    node(`${NM}/.pnpm/tv4@1.3.0/node_modules/tv4/package.json`, 'trivy-packagejson', 'legacy_array_package.json'),
    node(`${NM}/.bin/package.json`, 'trivy-packagejson', 'legacy_array_package.json'),
    node(`${NM}/old-bootstrap/package.json`, 'trivy-packagejson', 'package.json'),
  ];
  const { layer, unwanted } = await layerFor(npmScanner, entries);
  t.true([...layer.files.values()].every((file) => file.data.length < 1024), 'only the package is kept, not the manifest');
  t.deepEqual(unwanted, [
    'usr/src/app/package.json',
    'usr/local/lib/node_modules/npm/node_modules/date-fns/esm/fp/isSaturday/package.json',
    `${NM}/.bin/package.json`,
  ]);
  const result = await npmScanner.scan(layer);
  t.deepEqual(ids(result.packages), [
    'npm-apk-subpackage-with-false-positive@1.0.0',
    'function-bind@1.1.1',
    'npm@6.14.6',
    'tv4@1.3.0',
    'angular@4.1.2',
    'bootstrap@5.0.2',
    'lodash@5.0.0',
    'mixed-array-license@1.0.0',
    'bootstrap@5.0.2',
    'tv4@1.3.0',
  ]);
  t.deepEqual(result.notes, [
    `${NM}/@scope/invalid/package.json: "@invalid/packageName/" is not a valid package name; skipped`,
    `${NM}/angular-nover/package.json: angular has no "version"; skipped`,
  ]);
  const lodash = result.packages?.find((p) => p.name === 'lodash');
  t.deepEqual(lodash, {
    ecosystem: 'npm',
    name: 'lodash',
    version: '5.0.0',
    purl: 'pkg:npm/lodash@5.0.0',
    path: `${NM}/lodash/package.json`,
    extra: { private: true },
  });
  t.deepEqual(result.packages?.find((p) => p.path === `${NM}/old-bootstrap/package.json`)?.extra, { installedAs: 'old-bootstrap' }, 'an npm alias keeps the real name');
});

test('which paths are installed package manifests', (t) => {
  t.is(installedPackageDir('node_modules/a/package.json'), 'a');
  t.is(installedPackageDir('app/node_modules/@babel/core/package.json'), '@babel/core');
  t.is(installedPackageDir('app/node_modules/a/node_modules/b/package.json'), 'b');
  t.is(installedPackageDir('app/node_modules/@babel/package.json'), null);
  t.is(installedPackageDir('app/node_modules/a/lib/package.json'), null);
  t.is(installedPackageDir('app/node_modules/@s/a/lib/package.json'), null);
  t.is(installedPackageDir('app/package.json'), null);
  t.is(installedPackageDir('package.json'), null);
  t.is(installedPackageDir('app/node_modules/a/package.json.bak'), null);
  t.is(installedPackageDir('app/node_modules/@/a/package.json'), null);
});

test('a raw manifest handed to scan directly is read too', async (t) => {
  const data = Buffer.from('{"name": "@babel/core", "version": "7.24.0"}');
  const files = new Map([['node_modules/@babel/core/package.json', { path: 'node_modules/@babel/core/package.json', size: data.length, mode: 0o100644, data }]]);
  t.deepEqual(await npmScanner.scan({ files, symlinks: new Map() }), {
    packages: [{ ecosystem: 'npm', name: '@babel/core', version: '7.24.0', purl: 'pkg:npm/%40babel/core@7.24.0', path: 'node_modules/@babel/core/package.json' }],
    notes: [],
  });
});

test('package names and purls', (t) => {
  t.true(isNpmName('@babel/core'));
  t.true(isNpmName('JSONStream'), 'legacy upper case');
  t.false(isNpmName('@invalid/packageName/'));
  t.false(isNpmName('.hidden'));
  t.false(isNpmName('has space'));
  t.false(isNpmName('x'.repeat(215)));
  t.is(npmPurl('@babel/core', '7.24.0'), 'pkg:npm/%40babel/core@7.24.0');
  t.is(npmPurl('lodash', '4.17.21'), 'pkg:npm/lodash@4.17.21');
});

test('hostile manifests: malformed JSON, wrong types, oversized, binary junk', async (t) => {
  const scanner = createNpmScanner({ maxBytes: 1024 });
  const { layer, tooBig } = await layerFor(scanner, [
    { path: 'node_modules/a/package.json', data: Buffer.from('{"name": "a", "version": "1.0.0",') },
    { path: 'node_modules/b/package.json', data: Buffer.from('["b", "1.0.0"]') },
    { path: 'node_modules/c/package.json', data: Buffer.from('{"name": 7, "version": "1.0.0"}') },
    { path: 'node_modules/d/package.json', data: Buffer.from('{"name": "d", "version": {"x": 1}}') },
    { path: 'node_modules/e/package.json', data: Buffer.from(`{"name": "e", "version": "1.0.0", "readme": "${'x'.repeat(2000)}"}`) },
    { path: 'node_modules/f/package.json', data: Buffer.from([0xff, 0xfe, 0x00, 0x7b]) },
    { path: 'node_modules/g/package.json', data: Buffer.from('\uFEFF{"name": "g", "version": "2.0.0-beta.1"}') },
    { path: 'node_modules/h/package.json', data: Buffer.from('{"name": "h", "version": "latest"}') },
    { path: 'node_modules/i/package.json', data: Buffer.from('null') },
  ]);
  t.deepEqual(tooBig, [], 'manifests are streamed; the scanner applies its own cap');
  const result = await scanner.scan(layer);
  t.deepEqual(ids(result.packages), ['g@2.0.0-beta.1', 'h@latest']);
  const notes = result.notes ?? [];
  t.is(notes.length, 8);
  t.regex(notes[0] ?? '', /^node_modules\/a\/package\.json: not valid JSON \(.+\); skipped$/);
  t.is(notes[1], 'node_modules/b/package.json: not a JSON object; skipped');
  t.is(notes[2], 'node_modules/c/package.json: no "name"; skipped');
  t.is(notes[3], 'node_modules/d/package.json: d has no "version"; skipped');
  t.is(notes[4], `node_modules/e/package.json: ${layer.files.get('node_modules/e/package.json')?.size} bytes, more than the 1024-byte limit; skipped`);
  t.regex(notes[5] ?? '', /^node_modules\/f\/package\.json: not valid JSON/);
  t.is(notes[6], 'node_modules/h/package.json: h latest is not a semantic version');
  t.is(notes[7], 'node_modules/i/package.json: not a JSON object; skipped');
});
