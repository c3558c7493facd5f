import { createHash, type Hash } from 'node:crypto';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract, type Extract, type Header } from 'tar-stream';
import type { Scanner } from '../ecosystems/scanner.ts';
import { parseDigest, type Digest } from '../oci/digest.ts';
import { createDecompressor, formatFromMediaType, sniffFormat, SNIFF_BYTES, type LayerFormat } from './decompress.ts';
import { EntryRouter, type EntryBody, type ScannerFiles } from './entry-router.ts';
import { compileFileRequests } from './file-requests.ts';
import { LayerDigestError, LayerError, LayerFormatError, LayerLimitError } from './layer-errors.ts';
import { resolveLayerLimits, type LayerLimits } from './layer-limits.ts';
import { NoteList } from './note-list.ts';
import type { Whiteout } from './whiteouts.ts';

export type { ScannerFiles } from './entry-router.ts';

/** What `readLayer` needs besides the bytes. */
export interface ReadLayerOptions {
  /** The scanners whose `files` requests decide what is kept. */
  scanners: readonly Scanner[];
  /** Overrides of `DEFAULT_LAYER_LIMITS`. */
  limits?: Partial<LayerLimits>;
  /** The layer's digest: the bytes read must hash to it. */
  digest?: Digest;
  /** The image config's diff_id for this layer: the uncompressed tar must hash to it. */
  diffId?: Digest;
  /** The manifest's media type: only a hint (the format is sniffed); a disagreement becomes a note. */
  mediaType?: string;
  /** Stops the read: the promise rejects with the signal's reason and the input is destroyed. */
  signal?: AbortSignal;
}

/** Figures about one read layer. */
export interface LayerStats {
  compressedBytes: number;
  uncompressedBytes: number;
  /** Tar entries, counting directories, links and whiteouts, not PAX or GNU long-name headers. */
  entries: number;
  format: LayerFormat;
  /** The digest of the bytes read (the algorithm of `options.digest`, otherwise sha256). */
  digest: Digest;
  /** The digest of the uncompressed tar (the algorithm of `options.diffId`, otherwise sha256). */
  diffId: Digest;
}

/** Everything the scanners need from one layer, read in one pass. */
export interface LayerReadResult {
  /**
   * Per scanner name, the files it asked for (give `files` and `symlinks` to `scan`) and notes about
   * what it missed. A body wanted by several scanners is one shared `Buffer`: scanners only read it.
   */
  scanners: ReadonlyMap<string, ScannerFiles>;
  /** Paths this layer deletes from the layers below, in tar order. */
  whiteouts: Whiteout[];
  /** Notes about the layer as a whole (odd names, a missing end-of-archive marker, …). */
  notes: string[];
  stats: LayerStats;
}

/** The input: a Node stream or any async iterable of byte chunks (tar-stream entries, undici bodies). */
export type LayerInput = Readable | AsyncIterable<Uint8Array>;

/**
 * Reads one layer blob as it streams: verifies `digest` over the bytes read, sniffs gzip / zstd /
 * plain tar and decompresses, verifies `diffId` over the tar, walks the entries and keeps only what
 * the scanners asked for (each wanted body read once and shared). Nothing is written to disk and
 * memory stays bounded by the limits whatever the input.
 *
 * Rejects with `LayerLimitError` (a limit crossed, while streaming), `LayerDigestError`,
 * `LayerFormatError` (corrupt or truncated gzip / zstd / tar), the signal's reason when aborted, or
 * the input's own error when reading it fails. The input is consumed, and destroyed on failure.
 */
export async function readLayer(input: LayerInput, options: ReadLayerOptions): Promise<LayerReadResult> {
  const limits = resolveLayerLimits(options.limits);
  const requests = compileFileRequests(options.scanners, limits.fileBytes);
  const expectedDigest = options.digest === undefined ? null : parseDigest(options.digest, 'layer digest');
  const expectedDiffId = options.diffId === undefined ? null : parseDigest(options.diffId, 'layer diff_id');
  options.signal?.throwIfAborted();
  const notes = new NoteList();
  const run = new LayerRun(input, limits, new EntryRouter(requests, limits, notes), notes, expectedDigest, expectedDiffId);
  return run.execute(options.signal, options.mediaType);
}

/** One layer read: the stream stages, their counters and hashes, and the first failure. */
class LayerRun {
  readonly #input: LayerInput;
  readonly #limits: Readonly<LayerLimits>;
  readonly #router: EntryRouter;
  readonly #notes: NoteList;
  readonly #expectedDigest: Digest | null;
  readonly #expectedDiffId: Digest | null;
  readonly #compressedHash: Hash;
  readonly #uncompressedHash: Hash;
  readonly #failure = Promise.withResolvers<never>();
  #compressed = 0;
  #uncompressed = 0;
  #format: LayerFormat = 'tar';
  #decompressor: Transform | null = null;
  #tar: Extract | null = null;
  #failed = false;
  #settled = false;
  /** Errors raised by the decompressor or tar parser themselves, told apart from ours and the input's. */
  readonly #formatErrors = new Map<unknown, string>();

  constructor(input: LayerInput, limits: Readonly<LayerLimits>, router: EntryRouter, notes: NoteList, digest: Digest | null, diffId: Digest | null) {
    this.#input = input;
    this.#limits = limits;
    this.#router = router;
    this.#notes = notes;
    this.#expectedDigest = digest;
    this.#expectedDiffId = diffId;
    this.#compressedHash = createHash(algorithmOf(digest));
    this.#uncompressedHash = createHash(algorithmOf(diffId));
    this.#failure.promise.catch(() => undefined);
  }

  async execute(signal: AbortSignal | undefined, mediaType: string | undefined): Promise<LayerReadResult> {
    const onAbort = (): void => this.#fail(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.race([this.#stream(), this.#failure.promise]);
      return this.#finish(mediaType);
    } catch (error) {
      throw this.#explain(error);
    } finally {
      this.#settled = true;
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async #stream(): Promise<void> {
    try {
      const iterator = (this.#input as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
      const head: Buffer[] = [];
      let headLength = 0;
      while (headLength < SNIFF_BYTES) {
        const chunk = await this.#nextInput(iterator);
        if (chunk === null) break;
        head.push(chunk);
        headLength += chunk.length;
      }
      this.#format = sniffFormat(Buffer.concat(head, headLength));
      const source = this.#source(head, iterator);
      this.#decompressor = createDecompressor(this.#format);
      const tar = this.#startTar();
      if (this.#decompressor === null) {
        await this.#consume(source, tar);
      } else {
        const decompressor = this.#decompressor;
        decompressor.on('error', (error) => {
          // Only errors of its own: others reach it when the pipeline tears down after a failure.
          if (!this.#failed) this.#formatErrors.set(error, `${this.#format} stream is corrupt`);
        });
        await pipeline(source, decompressor, (chunks: AsyncIterable<Buffer>) => this.#consume(chunks, tar));
      }
    } catch (error) {
      this.#fail(error);
      throw error;
    }
  }

  async *#source(head: Buffer[], iterator: AsyncIterator<Uint8Array>): AsyncGenerator<Buffer> {
    yield* head;
    for (;;) {
      const chunk = await this.#nextInput(iterator);
      if (chunk === null) return;
      yield chunk;
    }
  }

  /** The next input chunk, counted and hashed. Fails the run at once on an input error or the limit. */
  async #nextInput(iterator: AsyncIterator<Uint8Array>): Promise<Buffer | null> {
    try {
      const next = await iterator.next();
      if (next.done === true) return null;
      const value: unknown = next.value;
      if (!(value instanceof Uint8Array)) throw new TypeError('layer input must yield bytes, not strings or objects');
      const chunk = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      this.#compressed += chunk.length;
      if (this.#compressed > this.#limits.compressedBytes) {
        throw new LayerLimitError('compressedBytes', this.#limits.compressedBytes, `read ${this.#compressed} bytes of the blob`);
      }
      this.#compressedHash.update(chunk);
      return chunk;
    } catch (error) {
      this.#fail(error);
      throw error;
    }
  }

  /** Counts, hashes and parses the uncompressed tar. */
  async #consume(chunks: AsyncIterable<Buffer>, tar: Extract): Promise<void> {
    try {
      for await (const chunk of chunks) {
        this.#uncompressed += chunk.length;
        if (this.#uncompressed > this.#limits.decompressedBytes) {
          throw new LayerLimitError('decompressedBytes', this.#limits.decompressedBytes, `decompressed ${this.#uncompressed} bytes`);
        }
        this.#uncompressedHash.update(chunk);
        if (!tar.write(chunk)) await this.#drained(tar);
      }
      await new Promise<void>((resolve) => {
        tar.once('finish', resolve);
        tar.end(undefined);
      });
    } catch (error) {
      this.#fail(error);
      throw error;
    }
  }

  #drained(tar: Extract): Promise<void> {
    return new Promise((resolve) => {
      tar.once('drain', resolve);
    });
  }

  #startTar(): Extract {
    const tar = tarExtract({ allowUnknownFormat: true } as never);
    this.#tar = tar;
    tar.on('entry', (header: Header, body, next) => {
      let pending: Promise<void> | null;
      try {
        // tar-stream hands over Buffer chunks (typed `unknown` by streamx).
        pending = this.#router.handle(header, body as unknown as EntryBody);
      } catch (error) {
        this.#fail(error);
        return;
      }
      if (pending === null) next();
      else pending.then(() => next(), (error: unknown) => this.#fail(error));
    });
    tar.on('error', (error: Error) => {
      if (!this.#failed) this.#formatErrors.set(error, 'tar stream is corrupt');
      this.#fail(error);
    });
    return tar;
  }

  /** Records the first failure and tears every stage down, so nothing waits on a stalled input. */
  #fail(error: unknown): void {
    if (this.#failed || this.#settled) return;
    this.#failed = true;
    this.#failure.reject(error);
    const input = this.#input as Partial<Readable>;
    if (typeof input.destroy === 'function') input.destroy();
    this.#decompressor?.destroy();
    this.#tar?.destroy();
  }

  #explain(error: unknown): unknown {
    if (error instanceof LayerError) return error;
    const what = this.#formatErrors.get(error);
    if (what !== undefined) {
      const reason = error instanceof Error ? error.message : String(error);
      return new LayerFormatError(`${what}: ${reason}`, { cause: error });
    }
    return error;
  }

  #finish(mediaType: string | undefined): LayerReadResult {
    const digest = `${algorithmOf(this.#expectedDigest)}:${this.#compressedHash.digest('hex')}` as Digest;
    const diffId = `${algorithmOf(this.#expectedDiffId)}:${this.#uncompressedHash.digest('hex')}` as Digest;
    if (this.#expectedDigest !== null && digest !== this.#expectedDigest) throw new LayerDigestError('digest', this.#expectedDigest, digest);
    if (this.#expectedDiffId !== null && diffId !== this.#expectedDiffId) throw new LayerDigestError('diffId', this.#expectedDiffId, diffId);

    if (this.#uncompressed === 0) this.#notes.add('layer is empty');
    else if (this.#uncompressed < this.#router.lastEntryEnd + 1024) {
      this.#notes.add('tar stream ends without its end-of-archive marker; the layer may be truncated');
    }
    const hinted = mediaType === undefined ? null : formatFromMediaType(mediaType);
    if (hinted !== null && hinted !== this.#format) this.#notes.add(`media type ${mediaType} says ${hinted} but the content is ${this.#format}`);

    return {
      scanners: this.#router.result(),
      whiteouts: this.#router.whiteouts,
      notes: this.#notes.toArray(),
      stats: {
        compressedBytes: this.#compressed,
        uncompressedBytes: this.#uncompressed,
        entries: this.#router.entries,
        format: this.#format,
        digest,
        diffId,
      },
    };
  }
}

function algorithmOf(digest: Digest | null): string {
  return digest === null ? 'sha256' : digest.slice(0, digest.indexOf(':'));
}
