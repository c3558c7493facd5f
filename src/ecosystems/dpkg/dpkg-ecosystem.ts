import type { Ecosystem } from '../ecosystem.ts';
import { dpkgScanner } from './dpkg-scanner.ts';
import { dpkgVersion } from './dpkg-version.ts';

/** Debian packages: the dpkg database (and distroless status.d) and dpkg version ordering. */
export const dpkgEcosystem = {
  name: 'dpkg',
  versionScheme: dpkgVersion,
  scanners: [dpkgScanner],
} as const satisfies Ecosystem;
