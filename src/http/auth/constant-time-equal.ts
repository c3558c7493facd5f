import { createHash, timingSafeEqual } from 'node:crypto';

/** Whether two secrets are equal, in time independent of where they differ and of their lengths (both are hashed first). */
export function constantTimeEqual(given: string, expected: string): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}
