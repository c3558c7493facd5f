/**
 * Random access to the entries of a tar archive on disk, without extracting it and without holding
 * any large entry in memory.
 * - A plain tar is seekable: its headers are indexed first (one small read per entry), then an
 *   entry is read as a byte range of the file, in any order, at no extra cost.
 * - A gzip or zstd archive is not: a first pass decompresses it once to learn every entry (name,
 *   size, first bytes), keeping the small entries a {@link FirstPassPolicy} asks for and hashing
 *   those it names; reading an entry later decompresses the archive again from its start up to
 *   that entry. A pass that finished an entry is kept (up to two) and reused by the next read of
 *   an entry further on, so reading entries in archive order costs one pass in all, and random
 *   order up to one pass per entry. `inOrder()` reads a set of entries in one pass.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { hasherFor, type Digest } from '../oci/digest.ts';
import { SNIFF_BYTES } from './decompress.ts';
import { fileSystemError, ImageSourceError, quoteName } from './image-source-error.ts';
import { LayerFormatError } from './layer-errors.ts';
import { indexTarFile } from './tar-entry-index.ts';
import { TarPass } from './tar-pass.ts';

/** One entry of the archive. */
export interface ArchiveEntry {
  /** The name as looked up (see {@link normalizeEntryName}). */
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'other';
  /** Data length (0 for anything but files). */
  size: number;
  linkname: string | null;
  /** Position among the entries. */
  ordinal: number;
  /** Data offset in the file (plain tars), else -1. */
  offset: number;
  /** The first bytes, once read. */
  head: Buffer | null;
  /** The sha256 digest of the data, once hashed. */
  digest: Digest | null;
  /** The data, when the first pass kept it. */
  kept: Buffer | null;
}

/** Where the entries are and how to read them. */
export interface EntryStore {
  /** By normalized name; a name written twice is its last entry, as tar has it. */
  readonly entries: ReadonlyMap<string, ArchiveEntry>;
  /** Decompression passes started so far, the first one included (0 for a plain tar). */
  readonly passes: number;
  /** The whole data of a small entry (the caller checks `entry.size` against its limit first). */
  readBytes(entry: ArchiveEntry, signal?: AbortSignal): Promise<Buffer>;
  /** The first `SNIFF_BYTES` bytes (fewer for a shorter entry). */
  head(entry: ArchiveEntry): Promise<Buffer>;
  /** The sha256 digest of the data (reading it whole when the first pass did not hash it). */
  digestOf(entry: ArchiveEntry, signal?: AbortSignal): Promise<Digest>;
  /**
   * The data of one entry, unverified. A corrupt or truncated archive met while reading fails with
   * a `LayerFormatError`; file errors and aborts pass through.
   */
  open(entry: ArchiveEntry, signal?: AbortSignal): Promise<AsyncIterable<Buffer>>;
  /** The data of `entries` in archive order, in one pass; read each body to its end before asking for the next. */
  inOrder(entries: readonly ArchiveEntry[], signal?: AbortSignal): AsyncGenerator<{ entry: ArchiveEntry; body: AsyncIterable<Buffer> }>;
  /** Releases idle passes; entries must not be read afterwards. */
  close(): void;
}

/** What a compressed archive's first pass does with each file entry. */
export interface FirstPassPolicy {
  /** Sees each file entry's name and size before its data; throws to refuse the archive. */
  admit(name: string, size: number): void;
  /** Whether to keep the entry's bytes in memory, from its name and first bytes (within the limits). */
  keep(name: string, head: Buffer): boolean;
  /** Whether to hash the entry's bytes. */
  hash(name: string, head: Buffer): boolean;
}

/** Bounds on an entry store. */
export interface EntryStoreLimits {
  /** Most entries in the archive. */
  entries: number;
  /** Largest entry kept by the first pass. */
  keptEntryBytes: number;
  /** Bytes kept by the first pass, in all. */
  keptBytes: number;
  /** Entry data in a compressed archive, in all, by the entries' headers (a plain tar is bounded by its file). */
  totalBytes: number;
}

/**
 * Indexes the archive at `filePath` (`size` bytes, `compression` as sniffed). `what` names it in
 * messages. Throws an {@link ImageSourceError} for a file that is not a tar (or a compressed one),
 * is truncated, corrupt, or over `limits.entries`, or whatever `policy.admit` throws.
 */
export async function openEntryStore(
  filePath: string,
  size: number,
  compression: 'none' | 'gzip' | 'zstd',
  limits: EntryStoreLimits,
  policy: FirstPassPolicy,
  what: string,
  signal?: AbortSignal,
): Promise<EntryStore> {
  return compression === 'none' ? PlainStore.index(filePath, size, limits, what) : CompressedStore.scan(filePath, compression, limits, policy, what, signal);
}

/** An archive name as looked up: no leading `./` or `/`, `.` and `..` resolved, no trailing `/`. */
export function normalizeEntryName(name: string): string {
  return path.posix.normalize(`/${name}`).replace(/^\/+/, '').replace(/\/+$/, '');
}

/** Largest PAX record set or GNU long name a plain tar may hold. */
const EXTENDED_HEADER_BYTES = 1024 * 1024;
/** Read size for layer data. */
const READ_CHUNK = 256 * 1024;

/** A plain tar file: entries found by their headers, read as byte ranges. */
class PlainStore implements EntryStore {
  readonly entries: ReadonlyMap<string, ArchiveEntry>;
  readonly passes = 0;
  readonly #path: string;

  private constructor(filePath: string, entries: Map<string, ArchiveEntry>) {
    this.#path = filePath;
    this.entries = entries;
  }

  static async index(filePath: string, size: number, limits: EntryStoreLimits, what: string): Promise<PlainStore> {
    const handle = await open(filePath, 'r').catch((error: unknown) => {
      throw fileSystemError(error, what);
    });
    try {
      const located = await indexTarFile(handle, size, { entries: limits.entries, extendedHeaderBytes: EXTENDED_HEADER_BYTES }, what);
      const entries = new Map<string, ArchiveEntry>();
      located.forEach((e, ordinal) => {
        const name = normalizeEntryName(e.name);
        entries.set(name, { name, type: e.type, size: e.size, linkname: e.linkname, ordinal, offset: e.offset, head: null, digest: null, kept: null });
      });
      return new PlainStore(filePath, entries);
    } finally {
      await handle.close();
    }
  }

  async readBytes(entry: ArchiveEntry): Promise<Buffer> {
    return this.#read(entry, entry.size);
  }

  async head(entry: ArchiveEntry): Promise<Buffer> {
    entry.head ??= await this.#read(entry, Math.min(SNIFF_BYTES, entry.size));
    return entry.head;
  }

  async digestOf(entry: ArchiveEntry, signal?: AbortSignal): Promise<Digest> {
    entry.digest ??= await hashAll(await this.open(entry, signal));
    return entry.digest;
  }

  async open(entry: ArchiveEntry, signal?: AbortSignal): Promise<AsyncIterable<Buffer>> {
    signal?.throwIfAborted();
    if (entry.size === 0) return (async function* () {})();
    return createReadStream(this.#path, {
      start: entry.offset,
      end: entry.offset + entry.size - 1,
      highWaterMark: READ_CHUNK,
      ...(signal ? { signal } : {}),
    }) as AsyncIterable<Buffer>;
  }

  async *inOrder(entries: readonly ArchiveEntry[], signal?: AbortSignal): AsyncGenerator<{ entry: ArchiveEntry; body: AsyncIterable<Buffer> }> {
    for (const entry of [...entries].sort((a, b) => a.offset - b.offset)) yield { entry, body: await this.open(entry, signal) };
  }

  close(): void {}

  async #read(entry: ArchiveEntry, length: number): Promise<Buffer> {
    const handle = await open(this.#path, 'r');
    try {
      const data = Buffer.alloc(length);
      const { bytesRead } = await handle.read(data, 0, length, entry.offset);
      if (bytesRead < length) throw new ImageSourceError('truncated', `${quoteName(entry.name)} ends early: the archive changed after it was opened`);
      return data;
    } finally {
      await handle.close();
    }
  }
}

/** Most finished passes kept for reuse by a compressed archive. */
const IDLE_PASSES = 2;

/** A gzip- or zstd-compressed archive: entries learnt in one pass, read by passes from the start. */
class CompressedStore implements EntryStore {
  readonly entries: ReadonlyMap<string, ArchiveEntry>;
  passes = 1;
  readonly #path: string;
  readonly #compression: 'gzip' | 'zstd';
  readonly #what: string;
  readonly #idle: TarPass[] = [];
  #closed = false;

  private constructor(filePath: string, compression: 'gzip' | 'zstd', what: string, entries: Map<string, ArchiveEntry>) {
    this.#path = filePath;
    this.#compression = compression;
    this.#what = what;
    this.entries = entries;
  }

  /** The first pass: every entry's name, size and first bytes; what the policy asks for kept or hashed. */
  static async scan(filePath: string, compression: 'gzip' | 'zstd', limits: EntryStoreLimits, policy: FirstPassPolicy, what: string, signal?: AbortSignal): Promise<CompressedStore> {
    const pass = new TarPass(filePath, compression);
    const entries = new Map<string, ArchiveEntry>();
    let seen = 0;
    let keptBytes = 0;
    let totalBytes = 0;
    const onAbort = (): void => pass.destroy(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        const item = await pass.next();
        if (item === null) break;
        if (++seen > limits.entries) throw new ImageSourceError('too_large', `${what} has more than ${limits.entries} entries`);
        const name = normalizeEntryName(item.header.name);
        const type = entryType(item.header.type);
        const size = type === 'file' ? (item.header.size ?? 0) : 0;
        const entry: ArchiveEntry = { name, type, size, linkname: item.header.linkname ?? null, ordinal: item.ordinal, offset: -1, head: null, digest: null, kept: null };
        entries.set(name, entry);
        if (type !== 'file') {
          item.body.resume();
          continue;
        }
        totalBytes += size;
        if (totalBytes > limits.totalBytes) throw new ImageSourceError('too_large', `${what} holds more than ${limits.totalBytes} bytes of entries`);
        policy.admit(name, size);
        const mayKeep = size <= limits.keptEntryBytes && keptBytes + size <= limits.keptBytes;
        const read = await firstRead(item.body as AsyncIterable<Buffer>, (head) => ({ keep: mayKeep && policy.keep(name, head), hash: policy.hash(name, head) }));
        entry.head = read.head;
        entry.digest = read.digest;
        entry.kept = read.kept;
        keptBytes += read.kept?.length ?? 0;
      }
    } catch (error) {
      pass.destroy();
      throw openError(pass, error, what, compression, seen);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    pass.destroy();
    if (seen === 0) throw new ImageSourceError('not_an_image', `${what} is ${compression}-compressed but holds no tar entries`);
    return new CompressedStore(filePath, compression, what, entries);
  }

  async readBytes(entry: ArchiveEntry, signal?: AbortSignal): Promise<Buffer> {
    if (entry.kept !== null) return entry.kept;
    const chunks: Buffer[] = [];
    for await (const chunk of await this.open(entry, signal)) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  async head(entry: ArchiveEntry): Promise<Buffer> {
    return entry.head ?? Buffer.alloc(0);
  }

  async digestOf(entry: ArchiveEntry, signal?: AbortSignal): Promise<Digest> {
    entry.digest ??= await hashAll(await this.open(entry, signal));
    return entry.digest;
  }

  async open(entry: ArchiveEntry, signal?: AbortSignal): Promise<AsyncIterable<Buffer>> {
    signal?.throwIfAborted();
    const pass = this.#takeIdle(entry.ordinal) ?? this.#newPass();
    let item;
    try {
      item = await pass.skipTo(entry.ordinal, signal);
    } catch (error) {
      pass.destroy();
      throw this.#readError(pass, error);
    }
    if (item === null) {
      pass.destroy();
      throw this.#gone(entry);
    }
    const body = item.body as AsyncIterable<Buffer>;
    const store = this;
    return (async function* () {
      let done = false;
      try {
        for await (const chunk of body) yield chunk;
        done = true;
      } catch (error) {
        throw store.#readError(pass, error);
      } finally {
        if (done) store.#release(pass);
        else pass.destroy();
      }
    })();
  }

  async *inOrder(entries: readonly ArchiveEntry[], signal?: AbortSignal): AsyncGenerator<{ entry: ArchiveEntry; body: AsyncIterable<Buffer> }> {
    let pass: TarPass | null = null;
    try {
      for (const entry of [...entries].sort((a, b) => a.ordinal - b.ordinal)) {
        // A body given up half-read kills its pass: go on with a new one.
        if (pass === null || pass.dead) {
          pass?.destroy();
          pass = this.#newPass();
        }
        const current: TarPass = pass;
        let item;
        try {
          item = await current.skipTo(entry.ordinal, signal);
        } catch (error) {
          throw this.#readError(current, error);
        }
        if (item === null) throw this.#gone(entry);
        const store = this;
        const body = item.body as AsyncIterable<Buffer>;
        yield {
          entry,
          body: (async function* () {
            try {
              yield* body;
            } catch (error) {
              throw store.#readError(current, error);
            }
          })(),
        };
      }
    } finally {
      pass?.destroy();
    }
  }

  close(): void {
    this.#closed = true;
    for (const pass of this.#idle.splice(0)) pass.destroy();
  }

  #newPass(): TarPass {
    this.passes++;
    return new TarPass(this.#path, this.#compression);
  }

  /** The idle pass furthest along that has not gone past entry `ordinal`. */
  #takeIdle(ordinal: number): TarPass | null {
    let best = -1;
    this.#idle.forEach((pass, i) => {
      if (!pass.dead && pass.position <= ordinal && (best === -1 || pass.position > this.#idle[best]!.position)) best = i;
    });
    return best === -1 ? null : this.#idle.splice(best, 1)[0]!;
  }

  #release(pass: TarPass): void {
    if (this.#closed || pass.dead) {
      pass.destroy();
      return;
    }
    this.#idle.push(pass);
    if (this.#idle.length > IDLE_PASSES) {
      // Drop the pass least useful later: the one furthest behind.
      let worst = 0;
      this.#idle.forEach((p, i) => {
        if (p.position < this.#idle[worst]!.position) worst = i;
      });
      this.#idle.splice(worst, 1)[0]!.destroy();
    }
  }

  #gone(entry: ArchiveEntry): LayerFormatError {
    return new LayerFormatError(`${this.#what} no longer holds ${quoteName(entry.name)}: it changed after it was opened`);
  }

  #readError(pass: TarPass, error: unknown): unknown {
    const stage = pass.stageOf(error);
    if (stage !== 'decompress' && stage !== 'tar') return error;
    const reason = error instanceof Error ? error.message : String(error);
    return new LayerFormatError(`${this.#what} is corrupt or truncated (${reason})`, { cause: error });
  }
}

type Hasher = ReturnType<typeof hasherFor>;

/** Reads an entry's data through: its first bytes, and its bytes kept and hashed as `decide` says once it has seen them. */
async function firstRead(
  body: AsyncIterable<Buffer>,
  decide: (head: Buffer) => { keep: boolean; hash: boolean },
): Promise<{ head: Buffer; kept: Buffer | null; digest: Digest | null }> {
  const held: Buffer[] = [];
  let head = Buffer.alloc(0);
  let decision: { keep: boolean; hasher: Hasher | null } | null = null;
  for await (const chunk of body) {
    if (decision !== null) {
      decision.hasher?.update(chunk);
      if (decision.keep) held.push(chunk);
      continue;
    }
    held.push(chunk);
    head = Buffer.concat([head, chunk.subarray(0, SNIFF_BYTES)]);
    if (head.length >= SNIFF_BYTES) decision = settle(head.subarray(0, SNIFF_BYTES), held, decide);
  }
  decision ??= settle(head, held, decide);
  return { head: head.subarray(0, SNIFF_BYTES), kept: decision.keep ? Buffer.concat(held) : null, digest: decision.hasher?.digest() ?? null };
}

/** Applies `decide` once the first bytes are in: hashes what was held, and drops it unless kept. */
function settle(head: Buffer, held: Buffer[], decide: (head: Buffer) => { keep: boolean; hash: boolean }): { keep: boolean; hasher: Hasher | null } {
  const plan = decide(head);
  const hasher = plan.hash ? hasherFor('sha256:' as Digest) : null;
  for (const chunk of held) hasher?.update(chunk);
  if (!plan.keep) held.length = 0;
  return { keep: plan.keep, hasher };
}

async function hashAll(body: AsyncIterable<Buffer>): Promise<Digest> {
  const hasher = hasherFor('sha256:' as Digest);
  for await (const chunk of body) hasher.update(chunk);
  return hasher.digest();
}

function entryType(type: string | null | undefined): ArchiveEntry['type'] {
  switch (type) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'directory';
    case 'symlink':
      return 'symlink';
    case 'link':
      return 'link';
    default:
      return 'other';
  }
}

/** A first-pass failure as one ImageSourceError (an abort's reason passes through). */
function openError(pass: TarPass, error: unknown, what: string, compression: 'gzip' | 'zstd', seen: number): unknown {
  if (error instanceof ImageSourceError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  switch (pass.stageOf(error)) {
    case 'file':
      return fileSystemError(error, what);
    case 'decompress':
      return /unexpected end/i.test(reason)
        ? new ImageSourceError('truncated', `${what} is truncated: the ${compression} stream ends early`, { cause: error })
        : new ImageSourceError('corrupt', `${what}: the ${compression} stream is corrupt (${reason})`, { cause: error });
    case 'tar':
      if (/unexpected end/i.test(reason)) return new ImageSourceError('truncated', `${what} is truncated: the archive ends inside an entry`, { cause: error });
      if (seen === 0) return new ImageSourceError('not_an_image', `${what} is ${compression}-compressed but does not hold a tar archive`, { cause: error });
      return new ImageSourceError('corrupt', `${what} has a corrupt tar header after ${seen} entries (${reason})`, { cause: error });
    default:
      return error;
  }
}
