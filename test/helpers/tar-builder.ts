import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { pack } from 'tar-stream';

/** One entry of a generated layer. */
export type TarEntry =
  | { type?: 'file'; name: string; data?: string | Buffer; mode?: number }
  | { type: 'directory'; name: string; mode?: number }
  | { type: 'symlink'; name: string; target: string }
  | { type: 'link'; name: string; target: string }
  /** `.wh.<basename>` beside the deleted path. */
  | { type: 'whiteout'; name: string }
  /** `<dir>/.wh..wh..opq`. */
  | { type: 'opaque'; name: string };

/** How names over 100 bytes are written: PAX `path` records (tar-stream's way) or GNU `././@LongLink` entries. */
export type LongNames = 'pax' | 'gnu';

const MTIME = new Date('2024-01-02T03:04:05Z');
const GNU_LONG_LINK = '././@LongLink';

/**
 * A layer tar made with tar-stream's `pack`: regular files, directories, symlinks, hard links,
 * whiteouts and opaque markers, with long names as PAX records or (`longNames: 'gnu'`) GNU
 * long-name entries, which `pack` cannot write and are patched in afterwards.
 */
export async function buildTar(entries: readonly TarEntry[], options: { longNames?: LongNames } = {}): Promise<Buffer> {
  const packer = pack();
  const out = collect(packer);
  const gnu = options.longNames === 'gnu';
  for (const entry of entries) {
    let name = tarName(entry);
    if (gnu && Buffer.byteLength(name) > 100) {
      await add(packer, { name: GNU_LONG_LINK, type: 'file', mode: 0o644 }, Buffer.from(`${name}\0`));
      name = Buffer.from(name).subarray(0, 100).toString('latin1');
    }
    switch (entry.type) {
      case undefined:
      case 'file':
        await add(packer, { name, type: 'file', mode: entry.mode ?? 0o644 }, Buffer.from(entry.data ?? ''));
        break;
      case 'directory':
        await add(packer, { name, type: 'directory', mode: entry.mode ?? 0o755 });
        break;
      case 'symlink':
      case 'link':
        await add(packer, { name, type: entry.type, linkname: entry.target, mode: 0o777 });
        break;
      case 'whiteout':
      case 'opaque':
        await add(packer, { name, type: 'file', mode: 0o644 }, Buffer.alloc(0));
        break;
    }
  }
  packer.finalize();
  const tar = await out;
  return gnu ? markGnuLongNames(tar) : tar;
}

/** `tar` gzip- or zstd-compressed, or as it is. */
export function compress(tar: Buffer, format: 'gzip' | 'zstd' | 'tar'): Buffer {
  if (format === 'gzip') return zlib.gzipSync(tar);
  if (format === 'zstd') return zlib.zstdCompressSync(tar);
  return tar;
}

/** A readable stream over `data` in chunks of `chunkSize`, like a blob arriving from the network. */
export function streamOf(data: Buffer, chunkSize = 16 * 1024): Readable {
  function* chunks(): Generator<Buffer> {
    for (let offset = 0; offset < data.length; offset += chunkSize) yield data.subarray(offset, offset + chunkSize);
  }
  return Readable.from(chunks(), { objectMode: false });
}

/**
 * A ustar header for a regular file of `size` bytes (sizes past 8 GiB in base-256), written by hand
 * so that tests can declare bodies that are generated rather than stored.
 */
export function ustarHeader(name: string, size: number, typeflag = '0'): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  if (size < 8 ** 11) {
    header.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  } else {
    header[124] = 0x80;
    let rest = size;
    for (let i = 135; i > 124; i--) {
      header[i] = rest % 256;
      rest = Math.floor(rest / 256);
    }
  }
  header.write(`${Math.floor(MTIME.getTime() / 1000).toString(8).padStart(11, '0')}\0`, 136, 'latin1');
  header.write(typeflag, 156, 'latin1');
  header.write('ustar\x0000', 257, 'latin1');
  writeChecksum(header);
  return header;
}

/** The zero padding after a body of `size` bytes, up to the next 512-byte block. */
export function padding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/** The end-of-archive marker: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(1024);

/**
 * A tar stream of generated entries: each is a header followed by `size` zero bytes, produced on
 * demand in chunks so that gigabytes never sit in memory or on disk.
 */
export function zeroBodyTar(entries: Iterable<{ name: string; size: number; data?: Buffer }>, chunkSize = 1024 * 1024): Readable {
  const zeros = Buffer.alloc(chunkSize);
  async function* chunks(): AsyncGenerator<Buffer> {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    for (const entry of entries) {
      const body = entry.data;
      const size = body?.length ?? entry.size;
      pending.push(ustarHeader(entry.name, size));
      pendingBytes += 512;
      if (body !== undefined) {
        pending.push(body, padding(size));
        pendingBytes += size + padding(size).length;
      } else if (size > 0) {
        if (pending.length > 0) yield Buffer.concat(pending);
        pending = [];
        pendingBytes = 0;
        let left = size;
        while (left > 0) {
          const n = Math.min(left, chunkSize);
          yield n === chunkSize ? zeros : zeros.subarray(0, n);
          left -= n;
        }
        pending.push(padding(size));
        pendingBytes += padding(size).length;
      }
      if (pendingBytes >= chunkSize) {
        yield Buffer.concat(pending);
        pending = [];
        pendingBytes = 0;
      }
    }
    pending.push(END_OF_ARCHIVE);
    yield Buffer.concat(pending);
  }
  return Readable.from(chunks(), { objectMode: false });
}

/**
 * A gzip or zstd layer of `size` bytes of zero-filled 1 MiB entries (a decompression bomb), made by
 * repeating one compressed 1 MiB block (gzip members and zstd frames may follow each other), so a
 * gigabyte costs about a megabyte to make and hold, and no header gives the total away.
 */
export function zeroLayer(format: 'gzip' | 'zstd', size: number): Readable {
  const block = 1024 * 1024;
  const pack = (data: Buffer): Buffer => (format === 'gzip' ? zlib.gzipSync(data, { level: 9 }) : zlib.zstdCompressSync(data));
  const packed = pack(Buffer.concat([ustarHeader('var/lib/bomb', block - 512), Buffer.alloc(block - 512)]));
  const tail = pack(END_OF_ARCHIVE);
  function* chunks(): Generator<Buffer> {
    for (let written = 0; written < size; written += block) yield packed;
    yield tail;
  }
  return Readable.from(chunks(), { objectMode: false });
}

function tarName(entry: TarEntry): string {
  if (entry.type !== 'whiteout' && entry.type !== 'opaque') return entry.name;
  const slash = entry.name.lastIndexOf('/');
  const dir = slash === -1 ? '' : entry.name.slice(0, slash + 1);
  if (entry.type === 'opaque') return `${entry.name.replace(/\/+$/, '')}/.wh..wh..opq`.replace(/^\//, '');
  return `${dir}.wh.${entry.name.slice(slash + 1)}`;
}

function add(packer: ReturnType<typeof pack>, header: Parameters<ReturnType<typeof pack>['entry']>[0], data?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error | null): void => (error ? reject(error) : resolve());
    header.mtime = MTIME;
    if (data === undefined) packer.entry(header, done);
    else packer.entry(header, data, done);
  });
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Turns each `././@LongLink` file `pack` wrote into a GNU long-name entry (typeflag `L`, GNU magic). */
function markGnuLongNames(tar: Buffer): Buffer {
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const size = Number.parseInt(header.toString('latin1', 124, 136).replace(/\0.*$/, '').trim() || '0', 8);
    if (header.toString('latin1', 0, GNU_LONG_LINK.length) === GNU_LONG_LINK && header[GNU_LONG_LINK.length] === 0) {
      header.write('L', 156, 'latin1');
      header.write('ustar  \0', 257, 'latin1');
      writeChecksum(header);
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return tar;
}

function writeChecksum(header: Buffer): void {
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
}
