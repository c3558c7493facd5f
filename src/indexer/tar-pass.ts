import { createReadStream, type ReadStream } from 'node:fs';
import type { Readable, Transform } from 'node:stream';
import { extract as tarExtract, type Extract, type Header } from 'tar-stream';
import { createDecompressor } from './decompress.ts';

/** One entry met by a {@link TarPass}: its header, its body and its position among the archive's entries. */
export interface TarPassEntry {
  header: Header;
  /** The entry's data; read it to the end (or `resume()` it) before asking for the next entry. */
  body: Readable;
  /** 0 for the first entry (PAX and GNU long-name records are not entries). */
  ordinal: number;
}

/** Which part of a pass failed: reading the file, decompressing, or parsing the tar. */
export type TarPassStage = 'file' | 'decompress' | 'tar';

const READ_CHUNK = 256 * 1024;

/**
 * One forward pass over a compressed tar file (`file → gunzip/zstd → tar-stream`), entry by entry.
 * Nothing is buffered beyond the stream buffers: an entry not wanted is skipped by reading it
 * through. A pass only moves forward; to go back, start another. `stageOf(error)` tells which part
 * of the pipeline an error came from, for messages.
 */
export class TarPass {
  readonly #file: ReadStream;
  readonly #decompressor: Transform;
  readonly #extract: Extract;
  readonly #iterator: AsyncIterator<Readable>;
  #next = 0;
  #current: Readable | null = null;
  #failure: { stage: TarPassStage | null; error: unknown } | null = null;

  constructor(path: string, compression: 'gzip' | 'zstd') {
    this.#file = createReadStream(path, { highWaterMark: READ_CHUNK });
    this.#decompressor = createDecompressor(compression)!;
    this.#extract = tarExtract({ allowUnknownFormat: true } as never);
    this.#file.on('error', (error) => this.#fail('file', error));
    this.#decompressor.on('error', (error) => this.#fail('decompress', error));
    this.#extract.on('error', (error: Error) => this.#fail('tar', error));
    this.#extract.on('close', () => {
      this.#file.destroy();
      this.#decompressor.destroy();
    });
    // tar-stream's iterator hands out entry streams (typed loosely by its declarations).
    this.#iterator = (this.#extract as unknown as AsyncIterable<Readable>)[Symbol.asyncIterator]();
    this.#file.pipe(this.#decompressor).pipe(this.#extract as unknown as NodeJS.WritableStream);
  }

  /** The ordinal of the entry `next()` returns. */
  get position(): number {
    return this.#next;
  }

  /** True once the pass failed or was destroyed: it cannot be used any more. */
  get dead(): boolean {
    return this.#failure !== null || this.#extract.destroyed;
  }

  /**
   * The next entry, or null at the end of the archive. The previous entry's body must have been
   * read to its end or resumed. Rejects with the pipeline's first error.
   */
  async next(): Promise<TarPassEntry | null> {
    this.#throwIfFailed();
    const result = await this.#iterator.next();
    this.#throwIfFailed();
    if (result.done === true) {
      this.#current = null;
      return null;
    }
    const body = result.value;
    this.#current = body;
    const header = (body as unknown as { header: Header }).header;
    return { header, body, ordinal: this.#next++ };
  }

  /**
   * Skips (reads through) entries until the one numbered `ordinal` and returns it, or null when the
   * archive ends first. `ordinal` must not be behind `position`. `signal` destroys the pass.
   */
  async skipTo(ordinal: number, signal?: AbortSignal): Promise<TarPassEntry | null> {
    if (ordinal < this.#next) throw new RangeError(`entry ${ordinal} is behind this pass (at ${this.#next})`);
    signal?.throwIfAborted();
    const onAbort = (): void => this.destroy(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      this.#current?.resume();
      for (;;) {
        const entry = await this.next();
        if (entry === null || entry.ordinal === ordinal) return entry;
        entry.body.resume();
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Which stage `error` came from (null for an error that did not come from the pipeline, like an abort). */
  stageOf(error: unknown): TarPassStage | null {
    return this.#failure !== null && this.#failure.error === error ? this.#failure.stage : null;
  }

  /** Stops the pass and releases the file; pending and later calls reject with `error` when given. */
  destroy(error?: unknown): void {
    if (error !== undefined) this.#fail(null, error);
    else this.#extract.destroy();
  }

  #throwIfFailed(): void {
    if (this.#failure !== null) throw this.#failure.error;
  }

  #fail(stage: TarPassStage | null, error: unknown): void {
    if (this.#failure === null && !this.#extract.destroyed) this.#failure = { stage, error };
    this.#extract.destroy(error instanceof Error ? error : new Error(String(error)));
  }
}
