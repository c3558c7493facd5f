import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform, pipeline, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import unbzip2Stream from 'unbzip2-stream';
import { FeedParseError } from './feed-parse-error.ts';

/** Compression formats recognised by their magic bytes. */
export type FeedCompression = 'gzip' | 'bzip2' | 'zstd' | 'none';

export interface OpenFeedFileOptions {
  /** Largest decompressed size accepted (a decompression bomb fails with a clear error). Default 4 GiB. */
  maxBytes?: number;
}

/** Default limit on the decompressed size of one feed file. */
export const DEFAULT_MAX_FEED_BYTES = 4 * 1024 * 1024 * 1024;

/** The compression of `file`, told from its first bytes (gzip 1f 8b, bzip2 `BZh`, zstd 28 b5 2f fd). */
export async function sniffCompression(file: string): Promise<FeedCompression> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
    if (bytesRead >= 3 && head.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
    if (bytesRead >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
    return 'none';
  } finally {
    await handle.close();
  }
}

/**
 * Opens a downloaded feed file for streaming: gzip, bzip2 and zstd are decompressed on the fly
 * (told from the magic bytes, not the name), and the decompressed bytes are counted against
 * `maxBytes`. Read errors, corrupt compressed data and the size limit surface as errors of the
 * returned stream; nothing is buffered beyond the streams' own high-water marks.
 */
export async function openFeedFile(file: string, options: OpenFeedFileOptions = {}): Promise<Readable> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_FEED_BYTES;
  const compression = await sniffCompression(file);
  const label = path.basename(file);
  const source = createReadStream(file, { highWaterMark: 256 * 1024 });
  const limit = byteLimit(maxBytes, label);
  const ignore = (): void => {};
  let inner: Readable;
  switch (compression) {
    case 'gzip':
      inner = pipeline(source, zlib.createGunzip(), limit, ignore);
      break;
    case 'bzip2':
      inner = pipeline(source, unbzip2Stream(), limit, ignore);
      break;
    case 'zstd':
      inner = pipeline(source, zlib.createZstdDecompress(), limit, ignore);
      break;
    default:
      inner = pipeline(source, limit, ignore);
  }
  // Errors of any stage (some decompressors raise non-Error values) come out as FeedParseErrors.
  async function* guarded(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of inner) yield chunk as Buffer;
    } catch (err) {
      throw wrap(err, label, compression);
    } finally {
      inner.destroy();
      source.destroy();
    }
  }
  return Readable.from(guarded(), { objectMode: false, highWaterMark: 256 * 1024 });
}

function wrap(err: unknown, label: string, compression: FeedCompression): Error {
  if (err instanceof FeedParseError) return err;
  const message = typeof (err as { message?: unknown })?.message === 'string' ? (err as { message: string }).message : String(err);
  const what = compression === 'none' ? 'read' : `${compression} decompression`;
  return new FeedParseError(`${label}: ${what} failed: ${message}`, { cause: err });
}

function byteLimit(maxBytes: number, label: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > maxBytes) callback(new FeedParseError(`${label}: more than ${maxBytes} bytes once decompressed`));
      else callback(null, chunk);
    },
  });
}
