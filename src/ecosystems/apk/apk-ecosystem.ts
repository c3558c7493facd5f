import type { Ecosystem } from '../ecosystem.ts';
import { apkRepositoryScanner } from './apk-repository-scanner.ts';
import { apkScanner } from './apk-scanner.ts';
import { apkVersion } from './apk-version.ts';

/** Alpine packages: the apk database, the repositories file (secdb branch) and apk version ordering. */
export const apkEcosystem = {
  name: 'apk',
  versionScheme: apkVersion,
  scanners: [apkScanner, apkRepositoryScanner],
} as const satisfies Ecosystem;
