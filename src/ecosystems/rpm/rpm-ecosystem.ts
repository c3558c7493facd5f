import type { Ecosystem } from '../ecosystem.ts';
import { rpmScanner } from './rpm-scanner.ts';
import { rpmVersion } from './rpm-version.ts';

/** RPM packages: the SQLite, Berkeley DB and NDB databases, and rpmvercmp ordering. */
export const rpmEcosystem = {
  name: 'rpm',
  versionScheme: rpmVersion,
  scanners: [rpmScanner],
} as const satisfies Ecosystem;
