import { createHash, timingSafeEqual } from 'node:crypto';

/** Compares two secrets in constant time (hashing first, so lengths do not leak either). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Whether a header value carries `secret` as itself or as `Bearer <secret>`. */
export function headerCarriesSecret(value: string | undefined, secret: string): boolean {
  if (value === undefined || value === '') return false;
  const token = /^bearer\s+/i.test(value) ? value.replace(/^bearer\s+/i, '') : value;
  return secretsEqual(token.trim(), secret);
}
