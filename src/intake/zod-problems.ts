import type { z } from 'zod';

/** The first few problems of a failed parse as one line: `events.0.id: expected string; …`. */
export function zodProblems(error: z.ZodError, max = 3): string {
  const lines = error.issues.slice(0, max).map((i) => `${i.path.length > 0 ? i.path.join('.') : '(body)'}: ${i.message}`);
  const more = error.issues.length > max ? ` (+${error.issues.length - max} more)` : '';
  return `${lines.join('; ')}${more}`;
}
