import type { Ecosystem } from '../ecosystem.ts';
import { pypiVersion } from './pypi-version.ts';
import { pythonScanner } from './python-scanner.ts';

/** Python packages: installed distribution metadata and PEP 440 ordering. */
export const pypiEcosystem = {
  name: 'pypi',
  versionScheme: pypiVersion,
  scanners: [pythonScanner],
} as const satisfies Ecosystem;
