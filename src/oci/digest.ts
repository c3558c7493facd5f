import { createHash, type Hash } from 'node:crypto';

/** An OCI content digest, `algorithm:hex` (e.g. `sha256:…`). Validated wherever one enters. */
export type Digest = `${string}:${string}`;

const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** True for a well-formed sha256/sha512 digest (the algorithms registries use). */
export function isDigest(value: unknown): value is Digest {
  return typeof value === 'string' && DIGEST.test(value);
}

/** Returns `value` as a digest, or throws with a message naming `what`. */
export function parseDigest(value: unknown, what = 'digest'): Digest {
  if (!isDigest(value)) throw new InvalidDigestError(`${what} is not a valid sha256/sha512 digest`);
  return value;
}

export class InvalidDigestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidDigestError';
  }
}

/** A running hash for `digest`'s algorithm, to verify content while it streams. */
export function hasherFor(digest: Digest): { update(chunk: Uint8Array): void; digest(): Digest } {
  const algorithm = digest.slice(0, digest.indexOf(':'));
  const hash: Hash = createHash(algorithm);
  return {
    update: (chunk) => void hash.update(chunk),
    digest: () => `${algorithm}:${hash.digest('hex')}` as Digest,
  };
}

/** The sha256 digest of a buffer. */
export function sha256Digest(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
