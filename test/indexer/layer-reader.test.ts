import test from 'ava';
import { Readable } from 'node:stream';
import type { FileRequest, LayerFiles, Scanner } from '../../src/ecosystems/scanner.ts';
import { LayerDigestError, LayerFormatError, LayerLimitError } from '../../src/indexer/layer-errors.ts';
import { readLayer, type LayerReadResult } from '../../src/indexer/layer-reader.ts';
import { scanLayer } from '../../src/indexer/scan-layer.ts';
import { InvalidDigestError, sha256Digest } from '../../src/oci/digest.ts';
import { buildTar, compress, streamOf, type TarEntry } from '../helpers/tar-builder.ts';

function scanner(name: string, files: FileRequest, scan: Scanner['scan'] = () => ({})): Scanner {
  return { name, version: '1', kind: 'package', files, scan };
}

/** A scanner's files as path → text, and its symlinks, for comparing. */
function view(result: LayerReadResult, name: string): { files: Record<string, string>; symlinks: Record<string, string>; notes: readonly string[] } {
  const got = result.scanners.get(name);
  if (got === undefined) throw new Error(`no entry for scanner ${name}`);
  const files: Record<string, string> = {};
  for (const [path, file] of got.files) files[path] = file.data.toString('utf8');
  return { files, symlinks: Object.fromEntries(got.symlinks), notes: got.notes };
}

const OS_RELEASE = 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\n';
const INSTALLED = 'C:Q1abcdef=\nP:musl\nV:1.2.4-r2\n\n';

const LAYER: TarEntry[] = [
  { type: 'directory', name: './etc/' },
  { type: 'symlink', name: './etc/os-release', target: '../usr/lib/os-release' },
  { type: 'directory', name: './usr/lib/' },
  { name: './usr/lib/os-release', data: OS_RELEASE },
  { name: './lib/apk/db/installed', data: INSTALLED },
  { name: './usr/lib/python3.12/site-packages/requests-2.31.0.dist-info/METADATA', data: 'Name: requests\nVersion: 2.31.0\n' },
  { name: './usr/local/bin/app', data: Buffer.alloc(3000, 7), mode: 0o755 },
  { name: './usr/share/doc/readme', data: 'not wanted by anyone' },
  { type: 'whiteout', name: './var/cache/apk' },
  { type: 'opaque', name: './opt/app' },
];

const SCANNERS = [
  scanner('os', { paths: ['etc/os-release', 'usr/lib/os-release'] }),
  scanner('apk', { paths: ['/lib/apk/db/installed'] }),
  scanner('python', { globs: ['usr/lib/python3*/site-packages/*.dist-info/METADATA'] }),
  scanner('exec', { match: (_path, size, mode) => (mode & 0o111) !== 0 && size > 1000 }),
];

test('gzip, zstd and plain tar layers give the same result', async (t) => {
  const tar = await buildTar(LAYER);
  const results = new Map<string, LayerReadResult>();
  for (const format of ['tar', 'gzip', 'zstd'] as const) {
    const result = await readLayer(streamOf(compress(tar, format)), { scanners: SCANNERS });
    t.is(result.stats.format, format);
    t.is(result.stats.uncompressedBytes, tar.length);
    t.is(result.stats.entries, LAYER.length);
    t.is(result.stats.diffId, sha256Digest(tar));
    results.set(format, result);
  }
  const [tarResult, gzipResult, zstdResult] = [...results.values()] as [LayerReadResult, LayerReadResult, LayerReadResult];
  t.true(gzipResult.stats.compressedBytes < tar.length);
  for (const other of [gzipResult, zstdResult]) {
    for (const { name } of SCANNERS) t.deepEqual(view(other, name), view(tarResult, name));
    t.deepEqual(other.whiteouts, tarResult.whiteouts);
    t.deepEqual(other.notes, tarResult.notes);
  }
});

test('a file is found by exact path, glob and predicate, and only by the scanners that ask', async (t) => {
  const seen: [string, number, number][] = [];
  const scanners = [
    ...SCANNERS,
    scanner('spy', { match: (path, size, mode) => { seen.push([path, size, mode]); return false; } }),
  ];
  const result = await readLayer(streamOf(compress(await buildTar(LAYER), 'gzip')), { scanners });
  t.deepEqual(view(result, 'os'), { files: { 'usr/lib/os-release': OS_RELEASE }, symlinks: { 'etc/os-release': '../usr/lib/os-release' }, notes: [] });
  t.deepEqual(view(result, 'apk').files, { 'lib/apk/db/installed': INSTALLED });
  t.deepEqual(Object.keys(view(result, 'python').files), ['usr/lib/python3.12/site-packages/requests-2.31.0.dist-info/METADATA']);
  const exec = result.scanners.get('exec')!.files.get('usr/local/bin/app');
  t.truthy(exec);
  t.is(exec?.size, 3000);
  t.is(exec?.mode, 0o100755);
  t.true(exec?.data.equals(Buffer.alloc(3000, 7)));
  // The predicate sees normalized paths, sizes and st_mode-style modes; whiteouts and directories never reach it.
  t.deepEqual(seen.find(([path]) => path === 'usr/share/doc/readme'), ['usr/share/doc/readme', 20, 0o100644]);
  t.deepEqual(seen.find(([path]) => path === 'etc/os-release'), ['etc/os-release', 0, 0o120777]);
  t.false(seen.some(([path]) => path.includes('.wh.') || path === 'etc' || path === 'usr/lib'));
  // The same body wanted by two scanners is read once and shared.
  const shared = await readLayer(streamOf(await buildTar(LAYER)), { scanners: [scanner('a', { paths: ['lib/apk/db/installed'] }), scanner('b', { globs: ['lib/**'] })] });
  t.is(shared.scanners.get('a')!.files.get('lib/apk/db/installed')!.data, shared.scanners.get('b')!.files.get('lib/apk/db/installed')!.data);
});

for (const longNames of ['pax', 'gnu'] as const) {
  test(`names over 100 characters are read (${longNames} long names)`, async (t) => {
    const deep = `usr/lib/node_modules/${'very-long-package-name-'.repeat(6)}x/node_modules/@scope/${'sub'.repeat(30)}/package.json`;
    const oneSegment = `opt/${'a'.repeat(180)}/os-release`;
    const tar = await buildTar([
      { name: deep, data: '{"name":"deep","version":"1.0.0"}' },
      { name: oneSegment, data: 'ID=long\n' },
      { type: 'symlink', name: `${oneSegment}.link`, target: 'os-release' },
    ], { longNames });
    t.true(deep.length > 250 && oneSegment.length > 180);
    if (longNames === 'gnu') t.true(tar.includes('././@LongLink'));
    else t.true(tar.includes(`path=${oneSegment}`));
    const result = await readLayer(streamOf(compress(tar, 'gzip')), {
      scanners: [scanner('npm', { globs: ['**/node_modules/**/package.json'] }), scanner('os', { paths: [oneSegment, `${oneSegment}.link`] })],
    });
    t.deepEqual(view(result, 'npm').files, { [deep]: '{"name":"deep","version":"1.0.0"}' });
    t.deepEqual(view(result, 'os'), { files: { [oneSegment]: 'ID=long\n' }, symlinks: { [`${oneSegment}.link`]: 'os-release' }, notes: [] });
    t.is(result.stats.entries, 3);
  });
}

test('symlinks at wanted paths are recorded and hard links to wanted files get their bytes', async (t) => {
  const tar = await buildTar([
    { name: 'usr/bin/python3', data: 'ELF python' },
    { type: 'link', name: 'usr/bin/python3.12', target: 'usr/bin/python3' },
    { type: 'link', name: './usr/local/bin/py', target: './usr/bin/python3' },
    { name: 'usr/share/zoneinfo/UTC', data: 'TZif' },
    { type: 'link', name: 'usr/share/zoneinfo/Etc/UTC', target: 'usr/share/zoneinfo/UTC' },
    { type: 'symlink', name: 'usr/bin/python', target: 'python3' },
  ]);
  const result = await readLayer(streamOf(tar), {
    scanners: [
      scanner('python', { globs: ['usr/bin/python*'] }),
      // Wants only the link; another scanner's interest in the target kept its bytes.
      scanner('local', { paths: ['usr/local/bin/py'] }),
      // Wants a link whose target nobody kept.
      scanner('tz', { paths: ['usr/share/zoneinfo/Etc/UTC'] }),
    ],
  });
  const python = view(result, 'python');
  t.deepEqual(python.files, { 'usr/bin/python3': 'ELF python', 'usr/bin/python3.12': 'ELF python' });
  t.deepEqual(python.symlinks, { 'usr/bin/python': 'python3' });
  t.deepEqual(view(result, 'local').files, { 'usr/local/bin/py': 'ELF python' });
  const link = result.scanners.get('local')!.files.get('usr/local/bin/py')!;
  t.is(link.size, 10);
  t.is(link.path, 'usr/local/bin/py');
  const tz = view(result, 'tz');
  t.deepEqual(tz.files, {});
  t.is(tz.notes.length, 1);
  t.regex(tz.notes[0]!, /hard link to "usr\/share\/zoneinfo\/UTC", whose content was not kept/);
});

test('whiteouts and opaque directories are recorded and never handed to scanners', async (t) => {
  const tar = await buildTar([
    { type: 'whiteout', name: 'etc/apk/repositories' },
    { type: 'whiteout', name: 'top-level-file' },
    { type: 'opaque', name: 'usr/lib/python3.12/site-packages' },
    { type: 'opaque', name: '' },
    { name: 'etc/.wh..wh.plnk', data: '' },
    { name: 'etc/alpine-release', data: '3.19.1\n' },
  ]);
  const result = await readLayer(streamOf(compress(tar, 'zstd')), { scanners: [scanner('all', { match: () => true })] });
  t.deepEqual(result.whiteouts, [
    { path: 'etc/apk/repositories', opaque: false },
    { path: 'top-level-file', opaque: false },
    { path: 'usr/lib/python3.12/site-packages', opaque: true },
    { path: '', opaque: true },
  ]);
  t.deepEqual(view(result, 'all').files, { 'etc/alpine-release': '3.19.1\n' });
});

test('absolute names and names climbing out with .. stay inside the root', async (t) => {
  const tar = await buildTar([
    { name: '/etc/passwd', data: 'root:x:0:0' },
    { name: '../../../etc/shadow', data: 'root:*' },
    { name: './usr/../../lib/apk/db/installed', data: INSTALLED },
    { name: 'usr//lib/./os-release', data: OS_RELEASE },
    { type: 'symlink', name: 'etc/evil', target: '../../../../etc/shadow' },
  ]);
  const result = await readLayer(streamOf(tar), { scanners: [scanner('all', { match: () => true })] });
  const all = view(result, 'all');
  t.deepEqual(all.files, { 'etc/passwd': 'root:x:0:0', 'etc/shadow': 'root:*', 'lib/apk/db/installed': INSTALLED, 'usr/lib/os-release': OS_RELEASE });
  // A symlink's target is recorded as written; resolving it is the reader's business, inside the root.
  t.deepEqual(all.symlinks, { 'etc/evil': '../../../../etc/shadow' });
  t.deepEqual(result.notes, [
    'entry "../../../etc/shadow" climbs out of the root; read as "etc/shadow"',
    'entry "./usr/../../lib/apk/db/installed" climbs out of the root; read as "lib/apk/db/installed"',
  ]);
});

test('a later entry at the same path replaces the earlier one', async (t) => {
  const tar = await buildTar([
    { name: 'etc/os-release', data: 'ID=first\n' },
    { name: 'etc/os-release', data: 'ID=second\n' },
    { name: 'etc/issue', data: 'first' },
    { type: 'symlink', name: 'etc/issue', target: 'issue.net' },
  ]);
  const result = await readLayer(streamOf(tar), { scanners: [scanner('os', { paths: ['etc/os-release', 'etc/issue'] })] });
  t.deepEqual(view(result, 'os'), { files: { 'etc/os-release': 'ID=second\n' }, symlinks: { 'etc/issue': 'issue.net' }, notes: [] });
});

test('digest and diff_id are verified: right ones pass, wrong ones fail with LayerDigestError', async (t) => {
  const tar = await buildTar(LAYER);
  const gz = compress(tar, 'gzip');
  const ok = await readLayer(streamOf(gz), { scanners: SCANNERS, digest: sha256Digest(gz), diffId: sha256Digest(tar) });
  t.is(ok.stats.digest, sha256Digest(gz));
  t.is(ok.stats.diffId, sha256Digest(tar));

  const wrongDigest = await t.throwsAsync(readLayer(streamOf(gz), { scanners: SCANNERS, digest: sha256Digest(tar), diffId: sha256Digest(tar) }), { instanceOf: LayerDigestError });
  t.is(wrongDigest?.which, 'digest');
  t.is(wrongDigest?.expected, sha256Digest(tar));
  t.is(wrongDigest?.actual, sha256Digest(gz));
  t.is(wrongDigest?.status, 422);

  const wrongDiffId = await t.throwsAsync(readLayer(streamOf(gz), { scanners: SCANNERS, digest: sha256Digest(gz), diffId: sha256Digest(gz) }), { instanceOf: LayerDigestError });
  t.is(wrongDiffId?.which, 'diffId');
  t.regex(wrongDiffId?.message ?? '', /diff_id/);

  await t.throwsAsync(readLayer(streamOf(gz), { scanners: SCANNERS, digest: 'sha256:abc' as never }), { instanceOf: InvalidDigestError });
  // sha512 digests are verified with sha512.
  const { createHash } = await import('node:crypto');
  const sha512 = `sha512:${createHash('sha512').update(gz).digest('hex')}` as const;
  const ok512 = await readLayer(streamOf(gz), { scanners: SCANNERS, digest: sha512 });
  t.is(ok512.stats.digest, sha512);
});

test('an extract streams a wanted file and keeps only what it returns', async (t) => {
  const big = Buffer.alloc(5 * 1024 * 1024, 0x61);
  big.write('BUILDINFO:go1.22.1', 4 * 1024 * 1024);
  const tar = await buildTar([{ name: 'usr/local/bin/server', data: big, mode: 0o755 }, { name: 'usr/local/bin/tool', data: 'tiny', mode: 0o755 }]);
  let chunksSeen = 0;
  const results = await readLayer(streamOf(compress(tar, 'gzip')), {
    scanners: [
      scanner('go', {
        match: (_path, _size, mode) => (mode & 0o111) !== 0,
        async extract(_path, chunks) {
          const parts: Buffer[] = [];
          for await (const chunk of chunks) {
            chunksSeen++;
            parts.push(chunk);
          }
          const whole = Buffer.concat(parts);
          const at = whole.indexOf('BUILDINFO:');
          return at === -1 ? null : whole.subarray(at, at + 18);
        },
      }),
      // Gives up after the first chunk: the rest of the file is dropped for it.
      scanner('first-chunk', {
        globs: ['usr/local/bin/*'],
        async extract(_path, chunks) {
          for await (const chunk of chunks) return chunk.subarray(0, 4);
          return null;
        },
      }),
      scanner('broken', {
        paths: ['usr/local/bin/server'],
        async extract() {
          throw new Error('cannot parse');
        },
      }),
      scanner('buffered', { paths: ['usr/local/bin/tool'] }),
    ],
  });
  t.true(chunksSeen > 1, 'the file arrived in several chunks');
  t.deepEqual(view(results, 'go').files, { 'usr/local/bin/server': 'BUILDINFO:go1.22.1' });
  const server = results.scanners.get('go')!.files.get('usr/local/bin/server')!;
  t.is(server.size, big.length);
  t.deepEqual(view(results, 'first-chunk').files, { 'usr/local/bin/server': 'aaaa', 'usr/local/bin/tool': 'tiny' });
  t.deepEqual(view(results, 'broken'), { files: {}, symlinks: {}, notes: ['reading usr/local/bin/server failed: cannot parse'] });
  t.deepEqual(view(results, 'buffered').files, { 'usr/local/bin/tool': 'tiny' });
});

test('a wanted file over its cap is skipped with a note, not buffered', async (t) => {
  const tar = await buildTar([
    { name: 'var/lib/rpm/Packages', data: Buffer.alloc(200_000) },
    { name: 'var/lib/dpkg/status', data: 'Package: bash\n' },
  ]);
  const result = await readLayer(streamOf(tar), {
    scanners: [
      scanner('rpm', { paths: ['var/lib/rpm/Packages'], maxBytes: 100_000 }),
      scanner('rpm-big', { paths: ['var/lib/rpm/Packages'], maxBytes: 1_000_000 }),
      scanner('dpkg', { globs: ['var/lib/**'] }),
    ],
    limits: { fileBytes: 50_000 },
  });
  t.deepEqual(view(result, 'rpm'), { files: {}, symlinks: {}, notes: ['skipped var/lib/rpm/Packages: 200000 bytes is over this scanner\'s cap of 100000'] });
  t.is(result.scanners.get('rpm-big')!.files.get('var/lib/rpm/Packages')!.data.length, 200_000);
  // No maxBytes: the fileBytes limit is the cap.
  t.deepEqual(view(result, 'dpkg'), { files: { 'var/lib/dpkg/status': 'Package: bash\n' }, symlinks: {}, notes: ['skipped var/lib/rpm/Packages: 200000 bytes is over this scanner\'s cap of 50000'] });
});

test('all bytes kept for scanners together are limited', async (t) => {
  const tar = await buildTar(Array.from({ length: 20 }, (_, i) => ({ name: `usr/lib/node_modules/p${i}/package.json`, data: Buffer.alloc(10_000, 0x20) })));
  const error = await t.throwsAsync(readLayer(streamOf(tar), { scanners: [scanner('npm', { globs: ['**/package.json'] })], limits: { keptBytes: 100_000 } }), { instanceOf: LayerLimitError });
  t.is(error?.limit, 'keptBytes');
  t.is(error?.value, 100_000);
  // Paths count too: 20 bodies of 10,000 bytes plus their names.
  const ok = await readLayer(streamOf(tar), { scanners: [scanner('npm', { globs: ['**/package.json'] })], limits: { keptBytes: 201_000 } });
  t.is(ok.scanners.get('npm')!.files.size, 20);
  // So do whiteouts: a layer of many long whiteout names cannot grow memory without bound.
  const whiteouts = await buildTar(Array.from({ length: 100 }, (_, i) => ({ type: 'whiteout' as const, name: `${'d'.repeat(900)}/${i}` })));
  const tooMany = await t.throwsAsync(readLayer(streamOf(whiteouts), { scanners: [], limits: { keptBytes: 50_000 } }), { instanceOf: LayerLimitError });
  t.regex(tooMany?.message ?? '', /keeping the whiteouts for scanners would pass it/);
});

test('scanLayer runs every scanner, and one that throws only gets a note', async (t) => {
  const scanners = [
    scanner('apk', { paths: ['lib/apk/db/installed'] }, (layer: LayerFiles) => ({
      packages: [...layer.files.values()].map((file) => ({ ecosystem: 'apk', name: file.data.toString().match(/^P:(.*)$/m)![1]!, version: '1.2.4-r2', path: file.path })),
    })),
    scanner('boom', { paths: ['lib/apk/db/installed'] }, () => {
      throw new Error('parser bug');
    }),
    scanner('capped', { paths: ['lib/apk/db/installed'], maxBytes: 4 }, (layer) => ({ packages: [], notes: [`saw ${layer.files.size} files`] })),
    scanner('bad-shape', { paths: [] }, () => 42 as never),
  ];
  const read = await readLayer(streamOf(await buildTar(LAYER)), { scanners });
  const results = await scanLayer(read, scanners);
  t.deepEqual(results.get('apk'), { packages: [{ ecosystem: 'apk', name: 'musl', version: '1.2.4-r2', path: 'lib/apk/db/installed' }] });
  t.deepEqual(results.get('boom'), { notes: ['scanner failed: parser bug'] });
  t.deepEqual(results.get('capped'), { packages: [], notes: [`skipped lib/apk/db/installed: ${INSTALLED.length} bytes is over this scanner's cap of 4`, 'saw 0 files'] });
  t.deepEqual(results.get('bad-shape'), { notes: ['scanner returned something that is not a scan result'] });
});

test('a predicate that throws is turned off with a note', async (t) => {
  const result = await readLayer(streamOf(await buildTar(LAYER)), {
    scanners: [scanner('bad', { match: () => { throw new Error('oops'); } }), scanner('os', { paths: ['usr/lib/os-release'] })],
  });
  t.deepEqual(view(result, 'bad').notes, ['file predicate threw on etc/os-release and was turned off for this layer: oops']);
  t.deepEqual(Object.keys(view(result, 'os').files), ['usr/lib/os-release']);
});

test('the media type is only a hint: the content decides, a disagreement is noted', async (t) => {
  const tar = await buildTar(LAYER);
  const result = await readLayer(streamOf(compress(tar, 'zstd')), { scanners: SCANNERS, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' });
  t.is(result.stats.format, 'zstd');
  t.deepEqual(result.notes, ['media type application/vnd.oci.image.layer.v1.tar+gzip says gzip but the content is zstd']);
  const agreeing = await readLayer(streamOf(compress(tar, 'gzip')), { scanners: SCANNERS, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' });
  t.deepEqual(agreeing.notes, []);
});

test('an empty layer and a tar without its end marker are read with a note', async (t) => {
  const empty = await readLayer(streamOf(Buffer.alloc(0)), { scanners: SCANNERS });
  t.deepEqual(empty.notes, ['layer is empty']);
  t.is(empty.stats.entries, 0);
  const tar = await buildTar(LAYER);
  const cut = await readLayer(streamOf(tar.subarray(0, tar.length - 1024)), { scanners: SCANNERS });
  t.deepEqual(cut.notes, ['tar stream ends without its end-of-archive marker; the layer may be truncated']);
  t.is(cut.stats.entries, LAYER.length);
});

test('aborting stops a stalled read at once and destroys the input', async (t) => {
  const tar = await buildTar(LAYER);
  const input = new Readable({ read() {} });
  input.push(compress(tar, 'gzip').subarray(0, 100));
  const controller = new AbortController();
  const reading = readLayer(input, { scanners: SCANNERS, signal: controller.signal });
  setTimeout(() => controller.abort(new Error('job cancelled')), 50);
  await t.throwsAsync(reading, { message: 'job cancelled' });
  t.true(input.destroyed);
  await t.throwsAsync(readLayer(streamOf(tar), { scanners: SCANNERS, signal: AbortSignal.abort(new Error('already')) }), { message: 'already' });
});

test('a failing input is passed through as it is, not as a layer error', async (t) => {
  const input = new Readable({ read() {} });
  input.push(compress(await buildTar(LAYER), 'gzip').subarray(0, 200));
  setImmediate(() => input.destroy(new Error('socket hang up')));
  const error = await t.throwsAsync(readLayer(input, { scanners: SCANNERS }));
  t.is(error?.message, 'socket hang up');
  t.false(error instanceof LayerFormatError);
});

test('scanner requests and limits are checked before reading', async (t) => {
  const tar = await buildTar(LAYER);
  await t.throwsAsync(readLayer(streamOf(tar), { scanners: [scanner('a', {}), scanner('a', {})] }), { instanceOf: TypeError, message: /two scanners are named "a"/ });
  await t.throwsAsync(readLayer(streamOf(tar), { scanners: SCANNERS, limits: { entries: -1 } }), { instanceOf: TypeError, message: /entries/ });
  await t.throwsAsync(readLayer(streamOf(tar), { scanners: SCANNERS, limits: { files: 1 } as never }), { instanceOf: TypeError, message: /unknown layer limit "files"/ });
});
