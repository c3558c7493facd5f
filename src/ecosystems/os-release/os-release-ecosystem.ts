import type { Ecosystem } from '../ecosystem.ts';
import { distributionScanner } from './distribution-scanner.ts';

/** Which distribution release a layer holds (os-release and the older release files). */
export const osReleaseEcosystem = {
  name: 'os-release',
  scanners: [distributionScanner],
} as const satisfies Ecosystem;
