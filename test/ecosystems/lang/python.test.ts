import test from 'ava';
import { createReadStream } from 'node:fs';
import tar from 'tar-stream';
import { parseCoreMetadata } from '../../../src/ecosystems/pypi/parse-core-metadata.ts';
import { normalizePypiName } from '../../../src/ecosystems/pypi/pep503-name.ts';
import { createPythonScanner, pythonMetadataKind, pythonScanner } from '../../../src/ecosystems/pypi/python-scanner.ts';
import { HAVE_FIXTURES, NO_FIXTURES, fixture } from '../../helpers/fixtures.ts';
import { ids, layerFor, readFixture, type LayerEntry } from './layer-files.ts';
import { makeZip } from './make-zip.ts';

const fixtureTest = HAVE_FIXTURES ? test : test.skip;
const SKIP = HAVE_FIXTURES ? '' : NO_FIXTURES;
const SP = 'usr/lib/python3.11/site-packages';

/** Fixture files placed where an installer would have put them. */
function installed(): LayerEntry[] {
  const from = (layerPath: string, ...parts: string[]): LayerEntry => ({ path: layerPath, data: readFixture('pkgdb', 'python', ...parts) });
  return [
    from(`${SP}/asyncssh-2.14.2.dist-info/METADATA`, 'trivy', 'asyncssh-2.14.2.METADATA'),
    from(`${SP}/distlib-0.3.1.dist-info/METADATA`, 'trivy', 'distlib-0.3.1.METADATA'),
    from(`${SP}/iniconfig-2.0.0.dist-info/METADATA`, 'trivy', 'iniconfig-2.0.0.METADATA'),
    from(`${SP}/networkx-3.0.dist-info/METADATA`, 'trivy', 'networkx-3.0.METADATA'),
    from(`${SP}/pyphen-0.14.0.dist-info/METADATA`, 'trivy', 'pyphen-0.14.0.METADATA'),
    from(`${SP}/simple-0.1.0.dist-info/METADATA`, 'trivy', 'simple-0.1.0.METADATA'),
    from(`${SP}/zipp-3.12.1.dist-info/METADATA`, 'trivy', 'zipp-3.12.1.METADATA'),
    from(`usr/lib/python3.9/site-packages/distlib-0.3.1-py3.9.egg-info`, 'trivy', 'distlib-0.3.1-py3.9.egg-info'),
    from(`usr/lib/python3.8/site-packages/setuptools-51.3.3-py3.8.egg-info/PKG-INFO`, 'trivy', 'setuptools-51.3.3-py3.8.egg-info.PKG-INFO'),
    from(`usr/lib/python2.7/dist-packages/Unidecode-0.4.1.egg-info/PKG-INFO`, 'trivy', 'unidecode-egg-info.PKG-INFO'),
    from(`opt/venv/lib/python3.9/site-packages/setuptools-51.3.3.dist-info/METADATA`, 'trivy', 'site-packages', 'setuptools-51.3.3.dist-info', 'METADATA'),
    from(`opt/venv/lib/python3.9/site-packages/typing_extensions-4.4.0.dist-info/METADATA`, 'trivy', 'site-packages', 'typing_extensions-4.4.0.dist-info', 'METADATA'),
    from(`opt/venv/lib/python3.9/site-packages/distlib-0.3.1.egg-info/PKG-INFO`, 'trivy', 'site-packages', 'distlib-0.3.1.egg-info', 'PKG-INFO'),
    from(`usr/lib/python2.7/site-packages/kitchen-1.2.6-py2.7.egg`, 'trivy', 'site-packages', 'kitchen-1.2.6-py2.7.egg'),
    from(`usr/lib/python2.7/lib-dynload/Python-2.7.egg-info`, 'syft', 'Python-2.7.egg-info'),
    from(`srv/app/no-version-py3.8.egg-info`, 'syft', 'site-packages', 'no-version', 'no-version-py3.8.egg-info'),
    from(`srv/app/lib/partial.dist-info/METADATA`, 'syft', 'site-packages', 'partial.dist-info', 'METADATA'),
    from(`srv/app/lib/Pygments-2.6.1.dist-info/METADATA`, 'syft', 'site-packages', 'license', 'with-license-file-declared.dist-info', 'METADATA'),
    from(`srv/app/lib/Pygments-2.6.1.dist-info/RECORD`, 'syft', 'site-packages', 'license', 'with-license-file-declared.dist-info', 'RECORD'),
    from(`srv/app/lib/Pygments-2.6.1.dist-info/top_level.txt`, 'syft', 'site-packages', 'license', 'with-license-file-declared.dist-info', 'top_level.txt'),
    from(`srv/app/src/requests/PKG-INFO`, 'syft', 'site-packages', 'nested', 'egg-name', 'egg-info', 'PKG-INFO'),
    from(`srv/app/src/mxnet/PKG-INFO`, 'syft', 'site-packages', 'nested', 'egg-name', 'egg-info', 'PKG-INFO-INVALID'),
  ];
}

fixtureTest(`installed distributions: names PEP 503 normalized, versions as written, path is the metadata file${SKIP}`, async (t) => {
  const { layer, unwanted } = await layerFor(pythonScanner, installed());
  t.deepEqual(unwanted, ['srv/app/lib/Pygments-2.6.1.dist-info/RECORD', 'srv/app/lib/Pygments-2.6.1.dist-info/top_level.txt']);
  const result = await pythonScanner.scan(layer);
  t.deepEqual(ids(result.packages).sort(), [
    'setuptools@51.3.3',
    'typing-extensions@4.4.0',
    'distlib@0.3.1',
    'pygments@2.6.1',
    'pygments@2.6.1',
    'mxnet@1.8.0',
    'requests@2.22.0',
    'python@2.7.13',
    'kitchen@1.2.6',
    'unidecode@0.4.1',
    'setuptools@51.3.3',
    'distlib@0.3.1',
    'asyncssh@2.14.2',
    'distlib@0.3.1',
    'iniconfig@2.0.0',
    'networkx@3.0',
    'pyphen@0.14.0',
    'simple@0.1.0',
    'zipp@3.12.1',
  ].sort());
  const typing = result.packages?.find((p) => p.name === 'typing-extensions');
  t.like(typing, {
    ecosystem: 'pypi',
    purl: 'pkg:pypi/typing-extensions@4.4.0',
    path: 'opt/venv/lib/python3.9/site-packages/typing_extensions-4.4.0.dist-info/METADATA',
    extra: { declaredName: 'typing_extensions' },
  });
  t.is(result.packages?.find((p) => p.name === 'kitchen')?.path, 'usr/lib/python2.7/site-packages/kitchen-1.2.6-py2.7.egg');
  t.deepEqual(result.notes, ['srv/app/no-version-py3.8.egg-info: no-version has no Version field; skipped']);
});

fixtureTest(`real layer with a package whose version is not PEP 440: reported, with a note${SKIP}`, async (t) => {
  const entries: LayerEntry[] = [];
  const extract = tar.extract();
  createReadStream(fixture('pkgdb', 'python', 'claircore-layer-with-bad-version.tar')).pipe(extract);
  for await (const entry of extract) {
    const parts: Buffer[] = [];
    for await (const chunk of entry) parts.push(chunk as Buffer);
    if (entry.header.type === 'file') entries.push({ path: entry.header.name, data: Buffer.concat(parts), mode: 0o100000 | (entry.header.mode ?? 0o644) });
  }
  const { layer } = await layerFor(pythonScanner, entries);
  const result = await pythonScanner.scan(layer);
  t.deepEqual(ids(result.packages), ['mypackage@0.1.0.0.0', 'mypackage@xxx']);
  t.is(result.notes?.length, 1);
  t.regex(result.notes?.[0] ?? '', /mypackage\.egg-info\/PKG-INFO: mypackage xxx is not a PEP 440 version$/);
});

test('which paths are wanted', (t) => {
  t.is(pythonMetadataKind('usr/lib/python3/dist-packages/foo-1.0.dist-info/METADATA'), 'metadata');
  t.is(pythonMetadataKind('usr/lib/python3/dist-packages/foo.egg-info/PKG-INFO'), 'metadata');
  t.is(pythonMetadataKind('usr/lib/python3/dist-packages/foo-1.0.egg/EGG-INFO/PKG-INFO'), 'metadata');
  t.is(pythonMetadataKind('usr/lib/python3/dist-packages/foo-1.0.egg-info'), 'metadata');
  t.is(pythonMetadataKind('usr/lib/python3/dist-packages/foo-1.0-py3.9.egg'), 'egg');
  t.is(pythonMetadataKind('usr/lib/python3/dist-packages/foo/METADATA'), null, 'METADATA outside a dist-info');
  t.is(pythonMetadataKind('usr/lib/python3/dist-packages/foo-1.0.dist-info/RECORD'), null);
  t.is(pythonMetadataKind('.egg-info'), null);
});

test('PEP 503 normalization', (t) => {
  t.is(normalizePypiName('Typing_Extensions'), 'typing-extensions');
  t.is(normalizePypiName('zope.interface'), 'zope-interface');
  t.is(normalizePypiName('a-_.-b'), 'a-b');
});

test('core metadata headers: folded lines, first field wins, body ignored, CRLF and BOM', (t) => {
  t.deepEqual(parseCoreMetadata('\uFEFFMetadata-Version: 2.1\r\nname:  Foo.Bar \r\nSummary: x\r\n  continued\r\nVersion: 1.0\r\nVersion: 2.0\r\n'), { name: 'Foo.Bar', version: '1.0' });
  t.deepEqual(parseCoreMetadata('Name: a\n\nVersion: 1.0\n'), { name: 'a', version: null }, 'the body is not headers');
  t.deepEqual(parseCoreMetadata('Name: a\nthis is not a header\nVersion: 1.0\n'), { name: 'a', version: null });
  t.deepEqual(parseCoreMetadata(''), { name: null, version: null });
});

test('hostile metadata: huge description, binary junk, invalid names, broken and bomb eggs', async (t) => {
  const huge = Buffer.concat([
    Buffer.from('Metadata-Version: 2.1\nName: big\nVersion: 1.0\nDescription: '),
    Buffer.alloc(5 * 1024 * 1024, 'x'),
  ]);
  const hugeFirst = Buffer.concat([Buffer.from('Metadata-Version: 2.1\nSummary: '), Buffer.alloc(400 * 1024, 'y'), Buffer.from('\nName: late\nVersion: 1\n')]);
  const junk = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
  const goodEgg = makeZip([{ name: 'EGG-INFO/PKG-INFO', data: 'Name: eggy\nVersion: 0.3\n' }]);
  const noInfoEgg = makeZip([{ name: 'eggy/__init__.py', data: '' }]);
  const bombEgg = makeZip([{ name: 'EGG-INFO/PKG-INFO', data: Buffer.concat([Buffer.from('Name: bomb\nVersion: 6.6.6\n'), Buffer.alloc(20 * 1024 * 1024, 0x20)]) }]);
  const truncatedEgg = goodEgg.subarray(0, goodEgg.length - 30);
  const scanner = createPythonScanner({ eggBytes: 1024 * 1024 });
  const bigEgg = makeZip([{ name: 'EGG-INFO/PKG-INFO', data: Buffer.alloc(3 * 1024 * 1024, 1), store: true }]);
  const { layer } = await layerFor(scanner, [
    { path: 'a/big-1.0.dist-info/METADATA', data: huge },
    { path: 'b/late-1.dist-info/METADATA', data: hugeFirst },
    { path: 'c/junk.dist-info/METADATA', data: junk },
    { path: 'd/bad-name.egg-info', data: Buffer.from('Name: -bad-\nVersion: 1\n') },
    { path: 'e/eggy-0.3.egg', data: goodEgg },
    { path: 'f/none.egg', data: noInfoEgg },
    { path: 'g/bomb.egg', data: bombEgg },
    { path: 'h/cut.egg', data: truncatedEgg },
    { path: 'i/big.egg', data: bigEgg },
  ]);
  t.true(layer.files.get('a/big-1.0.dist-info/METADATA')!.data.length <= 256 * 1024, 'only the head of a huge file is kept');
  const result = await scanner.scan(layer);
  t.deepEqual(ids(result.packages), ['big@1.0', 'eggy@0.3', 'bomb@6.6.6']);
  t.deepEqual(result.notes, [
    'b/late-1.dist-info/METADATA: no Name field in its first 262144 bytes; skipped',
    'c/junk.dist-info/METADATA: no Name field; skipped',
    'd/bad-name.egg-info: "-bad-" is not a valid distribution name; skipped',
    'f/none.egg: no EGG-INFO/PKG-INFO inside; skipped',
    result.notes?.[4] ?? '',
    `i/big.egg: zipped egg of ${bigEgg.length} bytes is larger than the 1048576-byte limit; skipped`,
  ]);
  t.regex(result.notes?.[4] ?? '', /^h\/cut\.egg: not a readable zip archive \(.+\); skipped$/);
});
