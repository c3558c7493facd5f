import test from 'ava';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FileRequest, Scanner } from '../../src/ecosystems/scanner.ts';
import { LayerFormatError, LayerLimitError } from '../../src/indexer/layer-errors.ts';
import { readLayer } from '../../src/indexer/layer-reader.ts';
import { ROOT } from '../helpers/cli.ts';
import { buildTar, compress, END_OF_ARCHIVE, streamOf, ustarHeader, zeroBodyTar, zeroLayer } from '../helpers/tar-builder.ts';

function scanner(name: string, files: FileRequest): Scanner {
  return { name, version: '1', kind: 'package', files, scan: () => ({}) };
}

const SCANNERS = [scanner('os', { paths: ['etc/os-release'] }), scanner('npm', { globs: ['**/package.json'] })];
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/**
 * Runs `body` (module code with `readLayer`, `zeroLayer` and `zeroBodyTar` in scope, which sets
 * `result`) in a fresh Node process, so that its peak RSS is its own and not that of the tests
 * running beside it; resolves to `result` and that peak in bytes.
 */
function isolated(body: string): Promise<{ result: Record<string, unknown>; maxRss: number }> {
  const script = `
    import { readLayer } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'src/indexer/layer-reader.ts')).href)};
    import { zeroLayer, zeroBodyTar } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'test/helpers/tar-builder.ts')).href)};
    let result = {};
    ${body}
    process.stdout.write(JSON.stringify({ result, maxRss: process.resourceUsage().maxRSS * 1024 }));
  `;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, timeout: 90_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as { result: Record<string, unknown>; maxRss: number });
    });
  });
}

test('a truncated gzip layer fails with LayerFormatError', async (t) => {
  const gz = compress(await buildTar([{ name: 'etc/os-release', data: 'ID=x\n'.repeat(5000) }, { name: 'b', data: Buffer.alloc(50_000, 1) }]), 'gzip');
  const error = await t.throwsAsync(readLayer(streamOf(gz.subarray(0, Math.floor(gz.length / 2))), { scanners: SCANNERS }), { instanceOf: LayerFormatError });
  t.regex(error?.message ?? '', /^gzip stream is corrupt: unexpected end of file/);
  t.is(error?.code, 'layer_format');
});

test('a truncated zstd layer fails with LayerFormatError', async (t) => {
  const zst = compress(await buildTar([{ name: 'etc/os-release', data: 'ID=x\n'.repeat(5000) }, { name: 'b', data: Buffer.alloc(50_000, 1) }]), 'zstd');
  const error = await t.throwsAsync(readLayer(streamOf(zst.subarray(0, Math.floor(zst.length / 2))), { scanners: SCANNERS }), { instanceOf: LayerFormatError });
  t.regex(error?.message ?? '', /^(zstd stream is corrupt|tar stream is corrupt): /);
});

test('corrupt compressed data fails with LayerFormatError', async (t) => {
  const gz = compress(await buildTar([{ name: 'etc/os-release', data: 'ID=x\n'.repeat(5000) }]), 'gzip');
  const damaged = Buffer.from(gz);
  for (let i = 20; i < damaged.length - 20; i += 7) damaged[i] = damaged[i]! ^ 0x5a;
  const error = await t.throwsAsync(readLayer(streamOf(damaged), { scanners: SCANNERS }), { instanceOf: LayerFormatError });
  t.regex(error?.message ?? '', /^gzip stream is corrupt: /);

  const zst = compress(await buildTar([{ name: 'etc/os-release', data: 'ID=x\n'.repeat(5000) }]), 'zstd');
  const damagedZst = Buffer.from(zst);
  for (let i = 12; i < damagedZst.length - 8; i += 5) damagedZst[i] = damagedZst[i]! ^ 0x5a;
  const zstError = await t.throwsAsync(readLayer(streamOf(damagedZst), { scanners: SCANNERS }), { instanceOf: LayerFormatError });
  t.regex(zstError?.message ?? '', /^(zstd|tar) stream is corrupt: /);
});

test('a corrupt tar header fails with LayerFormatError', async (t) => {
  const tar = await buildTar([{ name: 'etc/os-release', data: 'ID=x\n' }, { name: 'etc/hostname', data: 'box\n' }]);
  const damaged = Buffer.from(tar);
  damaged[1024 + 3] = damaged[1024 + 3]! ^ 0xff; // the second header's name: its checksum no longer matches
  for (const format of ['tar', 'gzip'] as const) {
    const error = await t.throwsAsync(readLayer(streamOf(compress(damaged, format)), { scanners: SCANNERS }), { instanceOf: LayerFormatError });
    t.regex(error?.message ?? '', /^tar stream is corrupt: Invalid tar header/);
  }
  // Bytes that are not a tar at all.
  const garbage = await t.throwsAsync(readLayer(streamOf(Buffer.alloc(4096, 'not a tar ')), { scanners: SCANNERS }), { instanceOf: LayerFormatError });
  t.regex(garbage?.message ?? '', /^tar stream is corrupt/);
  // A tar cut inside a body.
  const cut = await t.throwsAsync(readLayer(streamOf(tar.subarray(0, 700)), { scanners: SCANNERS }), { instanceOf: LayerFormatError });
  t.regex(cut?.message ?? '', /Unexpected end of data/);
  // A PAX header too large to be real.
  const pax = Buffer.concat([ustarHeader('PaxHeader', 64 * MiB, 'x'), END_OF_ARCHIVE]);
  const paxError = await t.throwsAsync(readLayer(streamOf(pax), { scanners: SCANNERS }), { instanceOf: LayerFormatError });
  t.regex(paxError?.message ?? '', /Header exceeds max size/);
});

test('xz and bzip2 layers get a clear LayerFormatError', async (t) => {
  const xz = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0, 0, 0]);
  await t.throwsAsync(readLayer(streamOf(xz), { scanners: SCANNERS }), { instanceOf: LayerFormatError, message: /xz-compressed/ });
  await t.throwsAsync(readLayer(streamOf(Buffer.from('BZh91AY&SY')), { scanners: SCANNERS }), { instanceOf: LayerFormatError, message: /bzip2-compressed/ });
});

for (const format of ['gzip', 'zstd'] as const) {
  test(`a ${format} decompression bomb (1 GiB of zeros) is stopped by the decompressed-bytes limit while streaming, in bounded memory`, async (t) => {
    // The limit is high on purpose: memory must stay flat while 768 MiB stream through.
    const { result, maxRss } = await isolated(`
      try {
        await readLayer(zeroLayer('${format}', ${GiB}), { scanners: [{ name: 'all', version: '1', kind: 'package', files: { match: () => true }, scan: () => ({}) }], limits: { decompressedBytes: ${768 * MiB} } });
      } catch (error) {
        result = { name: error.name, limit: error.limit, value: error.value, message: error.message };
      }
    `);
    t.like(result, { name: 'LayerLimitError', limit: 'decompressedBytes', value: 768 * MiB });
    t.regex(String(result.message), /decompressedBytes limit of 805306368: decompressed \d+ bytes/);
    // Node alone takes about 70 MB; 768 MiB went through, each 1 MiB entry buffered for the scanner in turn.
    t.true(maxRss < 256e6, `peak RSS ${Math.round(maxRss / 1e6)} MB`);
    t.log(`peak RSS of the reading process: ${Math.round(maxRss / 1e6)} MB`);
  });
}

test('a header declaring more than the decompressed-bytes limit fails before its body is read', async (t) => {
  const error = await t.throwsAsync(
    readLayer(zeroBodyTar([{ name: 'huge', size: 100 * GiB }]), { scanners: SCANNERS }),
    { instanceOf: LayerLimitError },
  );
  t.is(error?.limit, 'decompressedBytes');
  t.regex(error?.message ?? '', /entry "huge" declares 107374182400 bytes/);
});

test('the compressed-bytes limit stops a long blob', async (t) => {
  const error = await t.throwsAsync(readLayer(zeroLayer('gzip', 256 * MiB), { scanners: SCANNERS, limits: { compressedBytes: 100_000 } }), { instanceOf: LayerLimitError });
  t.is(error?.limit, 'compressedBytes');
});

/** 100,000 one-line files as a stream, made as they are read. */
function tinyEntries(count: number): Iterable<{ name: string; size: number; data: Buffer }> {
  return {
    *[Symbol.iterator]() {
      for (let i = 0; i < count; i++) yield { name: `usr/share/tiny/${i % 100}/f${i}`, size: 0, data: Buffer.from(`${i}\n`) };
    },
  };
}

test.serial('100,000 tiny entries: the entry limit stops them, and a high limit reads them quickly', async (t) => {
  const limited = await t.throwsAsync(readLayer(zeroBodyTar(tinyEntries(100_000)), { scanners: SCANNERS, limits: { entries: 50_000 } }), { instanceOf: LayerLimitError });
  t.is(limited?.limit, 'entries');
  t.is(limited?.value, 50_000);

  const started = performance.now();
  const result = await readLayer(zeroBodyTar(tinyEntries(100_000)), {
    scanners: [...SCANNERS, scanner('some', { match: (path) => path.endsWith('/f99999') || path.endsWith('/f12345') })],
    limits: { entries: 200_000 },
  });
  const elapsed = performance.now() - started;
  t.is(result.stats.entries, 100_000);
  t.deepEqual([...result.scanners.get('some')!.files.keys()].sort(), ['usr/share/tiny/45/f12345', 'usr/share/tiny/99/f99999']);
  t.is(result.scanners.get('some')!.files.get('usr/share/tiny/99/f99999')!.data.toString(), '99999\n');
  t.true(elapsed < 20_000, `took ${Math.round(elapsed)} ms`);
  t.log(`100,000 entries in ${Math.round(elapsed)} ms`);
});

test('a 2 GiB entry no scanner wants is skipped without being buffered', async (t) => {
  const { result, maxRss } = await isolated(`
    const entries = [
      { name: 'opt/model/weights.bin', size: ${2 * GiB} },
      { name: 'etc/os-release', size: 0, data: Buffer.from('ID=after-the-big-one\\n') },
    ];
    const scanner = (name, files) => ({ name, version: '1', kind: 'package', files, scan: () => ({}) });
    const read = await readLayer(zeroBodyTar(entries), {
      // One scanner would want it but for its cap: it must not be buffered either.
      scanners: [scanner('os', { paths: ['etc/os-release'] }), scanner('bins', { globs: ['opt/**'], maxBytes: ${10 * MiB} })],
    });
    result = {
      uncompressed: read.stats.uncompressedBytes,
      osRelease: read.scanners.get('os').files.get('etc/os-release')?.data.toString(),
      binsNotes: read.scanners.get('bins').notes,
    };
  `);
  t.deepEqual(result, {
    uncompressed: 512 + 2 * GiB + 512 + 512 + 1024,
    osRelease: 'ID=after-the-big-one\n',
    binsNotes: [`skipped opt/model/weights.bin: ${2 * GiB} bytes is over this scanner's cap of ${10 * MiB}`],
  });
  t.true(maxRss < 200e6, `peak RSS ${Math.round(maxRss / 1e6)} MB`);
  t.log(`peak RSS of the reading process: ${Math.round(maxRss / 1e6)} MB`);
});

test('notes are bounded however many odd entries a layer has', async (t) => {
  const entries = Array.from({ length: 500 }, (_, i) => ({ name: `../escape/${i}`, data: 'x' }));
  const result = await readLayer(streamOf(await buildTar(entries)), { scanners: SCANNERS });
  t.is(result.notes.length, 101);
  t.is(result.notes.at(-1), '400 more notes left out');
});
