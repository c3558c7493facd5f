import type { Ecosystem } from '../ecosystem.ts';
import { gemVersion } from './gem-version.ts';
import { gemspecScanner } from './gemspec-scanner.ts';

/** Ruby gems: installed gemspecs and Gem::Version ordering. */
export const gemEcosystem = {
  name: 'gem',
  versionScheme: gemVersion,
  scanners: [gemspecScanner],
} as const satisfies Ecosystem;
