import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './cli.ts';

/**
 * The shared real-data fixtures (package databases, image tarballs, feed samples). They live beside
 * the checkout, are read in place and never copied into the project. `LOOKOUT_FIXTURES` points elsewhere.
 */
export const FIXTURES = path.resolve(process.env.LOOKOUT_FIXTURES ?? path.join(ROOT, '..', 'shared', 'fixtures'));

/** Whether the fixtures folder is present. */
export const HAVE_FIXTURES = existsSync(FIXTURES);

/** A path inside the fixtures folder. */
export function fixture(...parts: string[]): string {
  return path.join(FIXTURES, ...parts);
}

/** The reason appended to the title of a test skipped for want of fixtures. */
export const NO_FIXTURES = ' (skipped: the shared fixtures folder is absent; set LOOKOUT_FIXTURES)';
