/**
 * Indexes the entries of a plain (uncompressed, seekable) tar file by reading only its headers:
 * one 512-byte read per entry, then a seek over the entry's data. tar-stream, used everywhere else,
 * reads every byte of an archive and does not export its header decoder, so the few fields needed
 * here (ustar name and prefix, octal or base-256 size, type, link name, GNU long names and PAX
 * `path` / `linkpath` / `size` records) are decoded by hand, each header's checksum verified.
 */
import type { FileHandle } from 'node:fs/promises';
import { ImageSourceError } from './image-source-error.ts';

/** One entry of a tar file and where its data lies. */
export interface TarEntryLocation {
  /** The name as written (PAX and GNU long names applied). */
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'other';
  /** Data length in bytes. */
  size: number;
  /** Byte offset of the data in the file. */
  offset: number;
  /** Target of a symbolic or hard link, else null. */
  linkname: string | null;
}

/** Bounds on what {@link indexTarFile} reads. */
export interface TarIndexLimits {
  /** Most entries (every header that is not a long-name or PAX record). */
  entries: number;
  /** Largest PAX record set or GNU long name read. */
  extendedHeaderBytes: number;
}

const BLOCK = 512;

/**
 * The entries of the tar file open as `handle` (`fileSize` bytes), in archive order, up to the
 * end-of-archive block or the end of the file. `what` names the file in messages. Throws an
 * {@link ImageSourceError}: `not_an_image` when the first header is not a tar header, `corrupt`
 * for a bad header later on, `truncated` for an entry running past the end of the file,
 * `too_large` past a limit.
 */
export async function indexTarFile(handle: FileHandle, fileSize: number, limits: TarIndexLimits, what: string): Promise<TarEntryLocation[]> {
  const entries: TarEntryLocation[] = [];
  const header = Buffer.alloc(BLOCK);
  let position = 0;
  let pending: { path?: string; linkpath?: string; size?: number } = {};
  let global: { path?: string; linkpath?: string; size?: number } = {};
  let first = true;
  while (position + BLOCK <= fileSize) {
    const { bytesRead } = await handle.read(header, 0, BLOCK, position);
    if (bytesRead < BLOCK) break;
    if (header.every((b) => b === 0)) return entries;
    if (!checksumMatches(header)) {
      throw first
        ? new ImageSourceError('not_an_image', `${what} is not a tar archive (nor a gzip- or zstd-compressed one)`)
        : new ImageSourceError('corrupt', `${what} has a corrupt tar header at byte ${position}`);
    }
    first = false;
    const type = String.fromCharCode(header[156]!);
    let size = readSize(header, position, what);
    const dataOffset = position + BLOCK;
    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      if (size > limits.extendedHeaderBytes) {
        throw new ImageSourceError('too_large', `${what} has an extended tar header of ${size} bytes at byte ${position}, over the limit of ${limits.extendedHeaderBytes}`);
      }
      if (dataOffset + size > fileSize) throw truncated(what);
      const data = Buffer.alloc(size);
      await handle.read(data, 0, size, dataOffset);
      if (type === 'L') pending.path = cString(data);
      else if (type === 'K') pending.linkpath = cString(data);
      else if (type === 'x') pending = { ...pending, ...parsePax(data, position, what) };
      else global = { ...global, ...parsePax(data, position, what) };
    } else {
      const extended = { ...global, ...pending };
      pending = {};
      if (extended.size !== undefined) size = extended.size;
      if (entries.length >= limits.entries) {
        throw new ImageSourceError('too_large', `${what} has more than ${limits.entries} entries`);
      }
      const name = extended.path ?? ustarName(header);
      const linkField = cString(header.subarray(157, 257));
      const kind = type === '0' || type === '\0' || type === '7' ? 'file' : type === '5' ? 'directory' : type === '2' ? 'symlink' : type === '1' ? 'link' : 'other';
      const hasData = kind === 'file' || kind === 'other';
      if (hasData && dataOffset + size > fileSize) throw truncated(what);
      entries.push({
        name,
        type: kind,
        size: hasData ? size : 0,
        offset: dataOffset,
        linkname: kind === 'symlink' || kind === 'link' ? (extended.linkpath ?? linkField) : null,
      });
      if (!hasData) size = 0;
    }
    position = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
  }
  if (first) throw new ImageSourceError('not_an_image', `${what} is not a tar archive (it is empty or shorter than one tar header)`);
  // The end-of-archive blocks are missing; every entry found is whole, so the index stands.
  return entries;
}

function truncated(what: string): ImageSourceError {
  return new ImageSourceError('truncated', `${what} is truncated: an entry runs past the end of the file`);
}

/** The header checksum, as an unsigned (POSIX) or signed (old tars) byte sum with the field as spaces. */
function checksumMatches(header: Buffer): boolean {
  const field = header.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]{1,8}$/.test(field)) return false;
  const stored = parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : header[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

function readSize(header: Buffer, position: number, what: string): number {
  const field = header.subarray(124, 136);
  if ((field[0]! & 0x80) !== 0) {
    // GNU base-256: a big-endian number in the remaining bits (negative sizes are refused).
    if ((field[0]! & 0x40) !== 0) throw new ImageSourceError('corrupt', `${what} has a negative entry size at byte ${position}`);
    let value = field[0]! & 0x3f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    if (!Number.isSafeInteger(value)) throw new ImageSourceError('corrupt', `${what} has an entry size too large to handle at byte ${position}`);
    return value;
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new ImageSourceError('corrupt', `${what} has an invalid entry size at byte ${position}`);
  return parseInt(text, 8);
}

function ustarName(header: Buffer): string {
  const name = cString(header.subarray(0, 100));
  // POSIX ustar ("ustar\0") keeps a name prefix at 345; GNU tar ("ustar  ") uses that space otherwise.
  if (header.subarray(257, 263).toString('latin1') !== 'ustar\0') return name;
  const prefix = cString(header.subarray(345, 500));
  return prefix === '' ? name : `${prefix}/${name}`;
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end === -1 ? bytes.length : end).toString('utf8');
}

/** The `path`, `linkpath` and `size` records of a PAX header ("<length> <key>=<value>\n" each). */
function parsePax(data: Buffer, position: number, what: string): { path?: string; linkpath?: string; size?: number } {
  const out: { path?: string; linkpath?: string; size?: number } = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = space === -1 ? NaN : Number(data.subarray(at, space).toString('latin1'));
    if (!Number.isSafeInteger(length) || length <= space - at || at + length > data.length) {
      if (data.subarray(at).every((b) => b === 0)) break;
      throw new ImageSourceError('corrupt', `${what} has a corrupt PAX header at byte ${position}`);
    }
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals > 0) {
      const key = record.slice(0, equals);
      const value = record.slice(equals + 1);
      if (key === 'path') out.path = value;
      else if (key === 'linkpath') out.linkpath = value;
      else if (key === 'size') {
        if (!/^[0-9]{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) {
          throw new ImageSourceError('corrupt', `${what} has an invalid PAX size at byte ${position}`);
        }
        out.size = Number(value);
      }
    }
    at += length;
  }
  return out;
}
