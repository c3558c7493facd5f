import type { LayerFiles, Scanner, ScanResult } from '../scanner.ts';
import { MAX_FILES_PER_DATABASE } from '../os-release/keep-package-file.ts';
import { readApkInstalled } from './read-apk-installed.ts';

/** The apk database. */
export const APK_INSTALLED_PATH = 'lib/apk/db/installed';
/** The largest apk database read (a full Alpine image's is under 1 MB). */
export const MAX_APK_INSTALLED_BYTES = 64 * 1024 * 1024;

/** apk packages of one layer, from `lib/apk/db/installed` (see {@link readApkInstalled}). */
export function scanApk(layer: LayerFiles): ScanResult {
  const file = layer.files.get(APK_INSTALLED_PATH);
  if (!file) return { packages: [], notes: [] };
  return readApkInstalled(file.data, APK_INSTALLED_PATH, { remaining: MAX_FILES_PER_DATABASE });
}

/** The apk scanner (Alpine, Wolfi, Chainguard). */
export const apkScanner: Scanner = {
  name: 'apk',
  version: '1',
  kind: 'package',
  files: { paths: [APK_INSTALLED_PATH], maxBytes: MAX_APK_INSTALLED_BYTES },
  scan: scanApk,
};
