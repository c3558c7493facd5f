import type { Ecosystem } from '../ecosystem.ts';
import { npmScanner } from './npm-scanner.ts';
import { npmVersion } from './npm-version.ts';

/** npm packages: installed node_modules and node-semver ordering. */
export const npmEcosystem = {
  name: 'npm',
  versionScheme: npmVersion,
  scanners: [npmScanner],
} as const satisfies Ecosystem;
