import type { FoundDistribution, LayerFiles, Scanner, ScanResult } from '../scanner.ts';
import { decodeText } from '../os-release/decode-text.ts';
import { parseApkRepositories } from './parse-apk-repositories.ts';

/** The apk repository list. */
export const APK_REPOSITORIES_PATH = 'etc/apk/repositories';

/**
 * The release an image's apk repositories point at, which decides the Alpine secdb branch to match
 * against (an image built `FROM alpine:3.18` that switched its repositories to `edge` gets edge
 * packages). Reported as a distribution whose `path` is `etc/apk/repositories`:
 * - every untagged repository on the same Alpine branch → `did: 'alpine'`, `versionId: '3.19'` or
 *   `'edge'`, `version: 'v3.19'` / `'edge'` (so `distributionKey` gives `alpine:3.19` / `alpine:edge`);
 * - untagged repositories on different branches → no distribution and a note naming them.
 * Tagged (`@testing`) repositories never decide the branch. Rolling apk distributions (Wolfi,
 * Chainguard) have no branch in their URLs and give nothing here; os-release names them.
 */
export function scanApkRepositories(layer: LayerFiles): ScanResult {
  const file = layer.files.get(APK_REPOSITORIES_PATH);
  if (!file) return { distributions: [], notes: [] };
  const notes: string[] = [];
  const { text, lossy } = decodeText(file.data);
  if (lossy) notes.push(`${APK_REPOSITORIES_PATH} is not valid UTF-8; invalid bytes were replaced`);
  const untagged = parseApkRepositories(text).filter((r) => r.tag === undefined);
  const distributions: FoundDistribution[] = [];
  const branches = [...new Set(untagged.map((r) => r.branch).filter((b): b is string => b !== undefined))];
  if (branches.length === 1) {
    const branch = branches[0] as string;
    distributions.push({ did: 'alpine', name: 'Alpine Linux', version: branch === 'edge' ? 'edge' : `v${branch}`, versionId: branch, path: APK_REPOSITORIES_PATH });
  } else if (branches.length > 1) {
    notes.push(`${APK_REPOSITORIES_PATH} mixes Alpine branches: ${branches.slice(0, 10).join(', ')}`);
  }
  return { distributions, notes };
}

/** The apk repository scanner: which release branch the image's package sources follow. */
export const apkRepositoryScanner: Scanner = {
  name: 'apk-repositories',
  version: '1',
  kind: 'repository',
  files: { paths: [APK_REPOSITORIES_PATH], maxBytes: 64 * 1024 },
  scan: scanApkRepositories,
};
