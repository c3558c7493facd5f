import test, { type ExecutionContext } from 'ava';
import { mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { extract } from 'tar-stream';
import { ImageSourceError } from '../../src/indexer/image-source-error.ts';
import { indexTarFile, type TarEntryLocation, type TarIndexLimits } from '../../src/indexer/tar-entry-index.ts';
import { buildTar, END_OF_ARCHIVE, padding, ustarHeader, type TarEntry } from '../helpers/tar-builder.ts';

const LIMITS: TarIndexLimits = { entries: 1000, extendedHeaderBytes: 64 * 1024 };
const LONG_DIR = 'a-directory-whose-name-is-long-enough/'.repeat(4);

const ENTRIES: TarEntry[] = [
  { type: 'directory', name: 'etc' },
  { name: 'etc/os-release', data: 'ID=test\n' },
  { name: 'empty', data: '' },
  { name: 'block', data: Buffer.alloc(512, 1) },
  { name: 'block-and-one', data: Buffer.alloc(513, 2) },
  { name: `${LONG_DIR}file-with-a-long-name.txt`, data: 'long\n' },
  { name: 'x'.repeat(180), data: 'no slash to split on\n' },
  { type: 'symlink', name: 'etc/link', target: `../${LONG_DIR}target-of-a-long-link-name-${'y'.repeat(80)}` },
  { type: 'link', name: 'hard', target: 'etc/os-release' },
];

async function tempFile(t: ExecutionContext, bytes: Buffer): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-tar-index-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'x.tar');
  await writeFile(file, bytes);
  return file;
}

async function index(file: string, limits = LIMITS): Promise<TarEntryLocation[]> {
  const handle = await open(file, 'r');
  try {
    return await indexTarFile(handle, (await handle.stat()).size, limits, 'test archive');
  } finally {
    await handle.close();
  }
}

/** What tar-stream reads from the same bytes: name, type, link and body of each entry. */
async function viaTarStream(tar: Buffer): Promise<{ name: string; type: string; linkname: string | null; data: Buffer }[]> {
  const out: { name: string; type: string; linkname: string | null; data: Buffer }[] = [];
  const parser = extract();
  const done = (async () => {
    for await (const entry of parser) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      out.push({ name: entry.header.name, type: entry.header.type ?? 'file', linkname: entry.header.linkname ?? null, data: Buffer.concat(chunks) });
    }
  })();
  parser.end(tar);
  await done;
  return out;
}

for (const longNames of ['pax', 'gnu'] as const) {
  test(`headers alone give what tar-stream reads: names (${longNames} long names), types, links, and data at the offsets`, async (t) => {
    const tar = await buildTar(ENTRIES, { longNames });
    const file = await tempFile(t, tar);
    const located = await index(file);
    const expected = await viaTarStream(tar);
    t.is(located.length, expected.length);
    for (const [i, entry] of located.entries()) {
      const want = expected[i]!;
      t.is(entry.name, want.name);
      t.is(entry.type as string, want.type === 'file' ? 'file' : want.type);
      t.is(entry.linkname, want.type === 'symlink' || want.type === 'link' ? want.linkname : null);
      if (entry.type === 'file') {
        t.is(entry.size, want.data.length, entry.name);
        t.true(tar.subarray(entry.offset, entry.offset + entry.size).equals(want.data), entry.name);
      }
    }
  });
}

test('a size past 8 GiB (base-256) is read and seeked over without reading the data (a sparse file)', async (t) => {
  const big = 9 * 1024 ** 3;
  const file = await tempFile(t, ustarHeader('big.bin', big));
  const end = 512 + big + padding(big).length;
  await truncate(file, end);
  const handle = await open(file, 'r+');
  await handle.write(Buffer.concat([ustarHeader('after', 3), Buffer.from('abc'), padding(3), END_OF_ARCHIVE]), 0, undefined, end);
  await handle.close();
  const located = await index(file);
  t.deepEqual(located.map((e) => [e.name, e.size, e.offset]), [
    ['big.bin', big, 512],
    ['after', 3, end + 512],
  ]);
  await truncate(file, 512 + big - 1);
  const error = await t.throwsAsync(index(file), { instanceOf: ImageSourceError });
  t.is(error.kind, 'truncated');
});

test('an archive without its end-of-archive blocks is indexed up to its last whole entry', async (t) => {
  const tar = await buildTar([{ name: 'a', data: 'a' }, { name: 'b', data: 'b' }]);
  const located = await index(await tempFile(t, tar.subarray(0, 2048)));
  t.deepEqual(located.map((e) => e.name), ['a', 'b']);
});

test('limits: entries, and the size of a PAX header', async (t) => {
  const tar = await buildTar(ENTRIES, { longNames: 'pax' });
  const file = await tempFile(t, tar);
  const tooMany = await t.throwsAsync(index(file, { ...LIMITS, entries: 3 }), { instanceOf: ImageSourceError });
  t.is(tooMany.kind, 'too_large');
  t.regex(tooMany.message, /more than 3 entries/);
  const bigHeader = await t.throwsAsync(index(file, { ...LIMITS, extendedHeaderBytes: 16 }), { instanceOf: ImageSourceError });
  t.is(bigHeader.kind, 'too_large');
  t.regex(bigHeader.message, /extended tar header of \d+ bytes/);
});

test('a bad checksum, a bad size field, a corrupt PAX record', async (t) => {
  const header = ustarHeader('a', 1);
  const flipped = Buffer.from(header);
  flipped[0] = 0x62; // name changed, checksum not
  t.is((await t.throwsAsync(index(await tempFile(t, Buffer.concat([flipped, Buffer.alloc(1024)]))), { instanceOf: ImageSourceError })).kind, 'not_an_image');

  const badSize = Buffer.from(header);
  badSize.write('0000000009x\0', 124, 'latin1');
  rechecksum(badSize);
  const sizeError = await t.throwsAsync(index(await tempFile(t, Buffer.concat([badSize, Buffer.alloc(1024)]))), { instanceOf: ImageSourceError });
  t.is(sizeError.kind, 'corrupt');
  t.regex(sizeError.message, /invalid entry size at byte 0/);

  const record = Buffer.from('99 path=x\n');
  const pax = ustarHeader('PaxHeader', record.length, 'x');
  const paxError = await t.throwsAsync(index(await tempFile(t, Buffer.concat([pax, record, padding(record.length), ustarHeader('a', 0), END_OF_ARCHIVE]))), { instanceOf: ImageSourceError });
  t.is(paxError.kind, 'corrupt');
  t.regex(paxError.message, /corrupt PAX header at byte 0/);
});

function rechecksum(header: Buffer): void {
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
}
