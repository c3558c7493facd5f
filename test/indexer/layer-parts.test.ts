import test from 'ava';
import { ChunkChannel } from '../../src/indexer/chunk-channel.ts';
import { formatFromMediaType, sniffFormat } from '../../src/indexer/decompress.ts';
import { LayerFormatError } from '../../src/indexer/layer-errors.ts';
import { DEFAULT_LAYER_LIMITS, resolveLayerLimits } from '../../src/indexer/layer-limits.ts';
import { normalizeLayerPath } from '../../src/indexer/layer-path.ts';
import { whiteoutOf } from '../../src/indexer/whiteouts.ts';

test('entry names are made relative to the root and never leave it', (t) => {
  const cases: [string, string, boolean][] = [
    ['./usr/lib/os-release', 'usr/lib/os-release', false],
    ['usr/lib/os-release', 'usr/lib/os-release', false],
    ['/etc/passwd', 'etc/passwd', false],
    ['././etc//apk/./world', 'etc/apk/world', false],
    ['./etc/', 'etc', false],
    ['./', '', false],
    ['.', '', false],
    ['a/b/../c', 'a/c', false],
    ['../etc/shadow', 'etc/shadow', true],
    ['/../../x', 'x', true],
    ['a/../../b', 'b', true],
    ['..', '', true],
    ['a/..b/c..', 'a/..b/c..', false],
  ];
  for (const [name, path, escaped] of cases) t.deepEqual(normalizeLayerPath(name), { path, escaped }, name);
  t.is(normalizeLayerPath(`a/${'b'.repeat(5000)}`), null);
  t.is(normalizeLayerPath('a\0b'), null);
});

test('whiteout names are read as OCI defines them', (t) => {
  t.deepEqual(whiteoutOf('etc/.wh.motd'), { path: 'etc/motd', opaque: false });
  t.deepEqual(whiteoutOf('.wh.tmp'), { path: 'tmp', opaque: false });
  t.deepEqual(whiteoutOf('usr/lib/.wh..wh..opq'), { path: 'usr/lib', opaque: true });
  t.deepEqual(whiteoutOf('.wh..wh..opq'), { path: '', opaque: true });
  t.is(whiteoutOf('.wh..wh.plnk'), 'reserved');
  t.is(whiteoutOf('x/.wh..wh.aufs'), 'reserved');
  t.is(whiteoutOf('etc/motd.wh.x'), null);
  t.is(whiteoutOf('etc/motd'), null);
});

test('formats are sniffed from magic bytes; the media type is read only as a hint', (t) => {
  t.is(sniffFormat(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0])), 'gzip');
  t.is(sniffFormat(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0])), 'zstd');
  t.is(sniffFormat(Buffer.from([0x50, 0x2a, 0x4d, 0x18, 0, 0])), 'zstd');
  t.is(sniffFormat(Buffer.from('etc/os-release')), 'tar');
  t.is(sniffFormat(Buffer.alloc(0)), 'tar');
  t.throws(() => sniffFormat(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])), { instanceOf: LayerFormatError });
  t.is(formatFromMediaType('application/vnd.oci.image.layer.v1.tar+gzip'), 'gzip');
  t.is(formatFromMediaType('application/vnd.oci.image.layer.v1.tar+zstd'), 'zstd');
  t.is(formatFromMediaType('application/vnd.oci.image.layer.v1.tar'), 'tar');
  t.is(formatFromMediaType('application/vnd.docker.image.rootfs.diff.tar.gzip'), 'gzip');
  t.is(formatFromMediaType('application/octet-stream'), null);
});

test('limits default sensibly and reject nonsense', (t) => {
  t.deepEqual(resolveLayerLimits(), DEFAULT_LAYER_LIMITS);
  t.is(resolveLayerLimits({ entries: 5 }).entries, 5);
  t.is(resolveLayerLimits({ fileBytes: Infinity }).fileBytes, Infinity);
  t.true(Object.isFrozen(resolveLayerLimits()));
  for (const bad of [0, -1, 1.5, Number.NaN, '10']) {
    t.throws(() => resolveLayerLimits({ entries: bad as number }), { instanceOf: TypeError, message: /"entries" must be a positive integer/ });
  }
});

test('a chunk channel hands chunks over one at a time and drops them once its consumer is gone', async (t) => {
  const channel = new ChunkChannel();
  const got: string[] = [];
  const consumer = (async () => {
    for await (const chunk of channel) {
      got.push(chunk.toString());
      if (got.length === 2) break;
    }
  })();
  await channel.push(Buffer.from('a'));
  await channel.push(Buffer.from('b'));
  await consumer;
  t.is(channel.push(Buffer.from('c')), undefined);
  channel.end();
  t.deepEqual(got, ['a', 'b']);
  t.throws(() => channel[Symbol.asyncIterator](), { instanceOf: TypeError });

  const failing = new ChunkChannel();
  const reading = (async () => {
    for await (const _ of failing) { /* wait */ }
  })();
  failing.fail(new Error('cut short'));
  await t.throwsAsync(reading, { message: 'cut short' });
});
