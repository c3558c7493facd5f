import type { Ecosystem } from '../ecosystem.ts';
import { goBinaryScanner } from './go-binary-scanner.ts';
import { goVersion } from './go-version.ts';

/** Go modules: build info of Go binaries and module version ordering. */
export const goEcosystem = {
  name: 'go',
  versionScheme: goVersion,
  scanners: [goBinaryScanner],
} as const satisfies Ecosystem;
