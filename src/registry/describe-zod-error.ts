import type { z } from 'zod';

/** The first few problems of a zod error as `path: message` (paths and messages only, never values). */
export function describeZodError(error: z.ZodError, max = 5): string {
  return error.issues
    .slice(0, max)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
