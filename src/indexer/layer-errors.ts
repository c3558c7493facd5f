import { AppError, type AppErrorOptions } from '../errors/app-error.ts';
import type { Digest } from '../oci/digest.ts';
import type { LayerLimits } from './layer-limits.ts';

/**
 * A layer that cannot be read because of its content: over a limit, not matching its digest, or not
 * a valid gzip/zstd/tar stream. Retrying the same blob gives the same error, so callers record it
 * and move on; failures to fetch the blob are passed through unchanged and are not `LayerError`s.
 */
export class LayerError extends AppError {
  constructor(code: string, message: string, options?: AppErrorOptions) {
    super(422, code, message, { expose: true, ...options });
  }
}

/** The layer went over one of its `LayerLimits`; `limit` names it and `value` is the bound crossed. */
export class LayerLimitError extends LayerError {
  readonly limit: keyof LayerLimits;
  readonly value: number;

  constructor(limit: keyof LayerLimits, value: number, what: string) {
    super('layer_limit', `layer is over the ${limit} limit of ${value}: ${what}`);
    this.limit = limit;
    this.value = value;
  }
}

/** The bytes read do not hash to the expected digest (`which`: the blob digest or the config's diff_id). */
export class LayerDigestError extends LayerError {
  readonly which: 'digest' | 'diffId';
  readonly expected: Digest;
  readonly actual: Digest;

  constructor(which: 'digest' | 'diffId', expected: Digest, actual: Digest) {
    const what = which === 'digest' ? 'layer blob' : 'uncompressed layer (diff_id)';
    super('layer_digest_mismatch', `${what} digest mismatch: expected ${expected}, got ${actual}`);
    this.which = which;
    this.expected = expected;
    this.actual = actual;
  }
}

/** The stream is not a readable gzip, zstd or tar stream; `message` says where it broke. */
export class LayerFormatError extends LayerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('layer_format', message, options);
  }
}
