import { Readable } from 'node:stream';
import type { Logger } from '../log/create-logger.ts';
import type { Digest } from '../oci/digest.ts';
import { RegistryError } from './registry-error.ts';

/** A digest hasher that may already have consumed the first bytes of a blob. */
export interface BlobHasher {
  update(chunk: Uint8Array): void;
  digest(): Digest;
}

/** An open response body for a blob, and how many leading bytes to drop (a server that ignored Range). */
export interface BlobSource {
  body: Readable;
  skip: number;
}

/** What {@link verifiedBlobStream} needs. */
export interface VerifiedBlobOptions {
  digest: Digest;
  /** Exact size from the descriptor, or null (then `maxBytes` applies). */
  expected: number | null;
  /** Bytes the caller already has (and `hasher` consumed). */
  offset: number;
  hasher: BlobHasher;
  maxBytes: number;
  maxResumes: number;
  /** `registry "x": GET …` and `blob repo@digest`, for messages. */
  label: string;
  what: string;
  first: BlobSource;
  /** Opens the blob again at a byte offset (a Range request). */
  reopen(offset: number): Promise<BlobSource>;
  /** True for errors after which the transfer may resume. */
  isInterruption(err: unknown): boolean;
  /** Maps a transport error to a RegistryError. */
  toError(err: unknown): RegistryError;
  logger: Logger;
  logFields: Record<string, unknown>;
  /** Called once when the stream closes (ended, failed or destroyed). */
  onClose(): void;
}

class ShortBody extends Error {}

/**
 * A byte stream of a blob that checks every byte: more bytes than `expected` (or than `maxBytes`)
 * fail at once, a body that breaks off or ends early is resumed from the bytes received so far
 * (up to `maxResumes` times, the same hasher continuing), and at the end the hash must equal
 * `digest` (`digest_mismatch` otherwise). Errors are {@link RegistryError}s.
 */
export function verifiedBlobStream(o: VerifiedBlobOptions): Readable {
  let active = o.first;
  let received = o.offset;

  async function* verified(): AsyncGenerator<Buffer> {
    let resumes = 0;
    for (;;) {
      try {
        let skip = active.skip;
        for await (const chunk of active.body as AsyncIterable<Buffer>) {
          let buf = chunk;
          if (skip > 0) {
            if (buf.length <= skip) {
              skip -= buf.length;
              continue;
            }
            buf = buf.subarray(skip);
            skip = 0;
          }
          received += buf.length;
          if (o.expected !== null && received > o.expected) {
            throw new RegistryError('digest_mismatch', `${o.label}: ${o.what} is longer than its size ${o.expected}`);
          }
          if (o.expected === null && received > o.maxBytes) {
            throw new RegistryError('too_large', `${o.label}: ${o.what} is over the limit of ${o.maxBytes} bytes`);
          }
          o.hasher.update(buf);
          yield buf;
        }
        if (o.expected !== null && received < o.expected) throw new ShortBody();
        break;
      } catch (err) {
        if (err instanceof RegistryError) throw err;
        const short = err instanceof ShortBody;
        if (!(short || o.isInterruption(err)) || resumes >= o.maxResumes) {
          if (short) throw new RegistryError('unavailable', `${o.label}: ${o.what} ended after ${received} of ${o.expected} bytes`);
          throw o.toError(err);
        }
        resumes++;
        o.logger.info({ ...o.logFields, offset: received, resume: resumes }, 'registry blob resume');
        active.body.destroy();
        active = await o.reopen(received);
      }
    }
    const actual = o.hasher.digest();
    if (actual !== o.digest) throw new RegistryError('digest_mismatch', `${o.label}: ${o.what} hashes to ${actual}`);
  }

  const stream = Readable.from(verified(), { objectMode: false });
  stream.once('close', () => {
    active.body.destroy();
    o.onClose();
  });
  return stream;
}
