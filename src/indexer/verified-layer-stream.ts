import { addAbortSignal, Readable } from 'node:stream';
import { hasherFor, type Digest } from '../oci/digest.ts';
import { LayerDigestError, LayerError } from './layer-errors.ts';

/** What the bytes of a stored blob must be. */
export interface ExpectedBlob {
  digest: Digest;
  /** Exact length in bytes. */
  size: number;
}

/**
 * A byte stream of `source` that checks it is exactly `expected`: a byte past `expected.size` fails
 * at once and a short stream fails at its end (`LayerError` `layer_size_mismatch`), and at the end
 * the bytes must hash to `expected.digest` (`LayerDigestError` `digest`). `what` names the blob in
 * messages. Destroying the returned stream (or aborting `signal`) ends `source` through its
 * iterator's `return`; `source`'s own errors pass through unchanged.
 */
export function verifiedLayerStream(source: AsyncIterable<Uint8Array>, expected: ExpectedBlob, what: string, signal?: AbortSignal): Readable {
  async function* verified(): AsyncGenerator<Buffer> {
    const hasher = hasherFor(expected.digest);
    let received = 0;
    for await (const value of source) {
      const chunk = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      received += chunk.length;
      if (received > expected.size) {
        throw new LayerError('layer_size_mismatch', `${what} is longer than its size of ${expected.size} bytes`);
      }
      hasher.update(chunk);
      yield chunk;
    }
    if (received < expected.size) {
      throw new LayerError('layer_size_mismatch', `${what} ended after ${received} of its ${expected.size} bytes`);
    }
    const actual = hasher.digest();
    if (actual !== expected.digest) throw new LayerDigestError('digest', expected.digest, actual);
  }
  const stream = Readable.from(verified(), { objectMode: false });
  return signal === undefined ? stream : addAbortSignal(signal, stream);
}
