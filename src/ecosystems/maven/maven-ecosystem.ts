import type { Ecosystem } from '../ecosystem.ts';
import { javaArchiveScanner } from './java-archive-scanner.ts';
import { mavenVersion } from './maven-version.ts';

/** Java packages: jar/war/ear archives (nested too) and Maven ComparableVersion ordering. */
export const mavenEcosystem = {
  name: 'maven',
  versionScheme: mavenVersion,
  scanners: [javaArchiveScanner],
} as const satisfies Ecosystem;
