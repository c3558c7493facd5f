import path from 'node:path';
import type { FoundPackage, LayerFiles, Scanner, ScanResult } from '../scanner.ts';
import { MAX_FILES_PER_DATABASE, MAX_FILES_PER_PACKAGE } from '../os-release/keep-package-file.ts';
import { filterFileList, keptFiles } from './filter-file-list.ts';
import { readDpkgStatus } from './read-dpkg-status.ts';

/** The dpkg database. */
export const DPKG_STATUS_PATH = 'var/lib/dpkg/status';
/** Distroless images: one deb822 file per package, plus `<name>.md5sums` file lists. */
export const DPKG_STATUS_DIR = 'var/lib/dpkg/status.d';
/** Per-package file lists: `<name>.list` or `<name>:<arch>.list`. */
export const DPKG_INFO_DIR = 'var/lib/dpkg/info';

/** The largest status file read (a full Debian desktop's is a few MB). */
export const MAX_DPKG_FILE_BYTES = 64 * 1024 * 1024;

/**
 * Keeps status files whole and reduces file lists (`info/*.list`, `status.d/*.md5sums`) to the
 * paths worth keeping while they stream, so a layer's thousands of lists never sit in memory.
 */
async function extract(file: string, chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  if (file.endsWith('.list')) return filterFileList(chunks, false);
  if (file.endsWith('.md5sums')) return filterFileList(chunks, true);
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

/**
 * dpkg packages of one layer, from `var/lib/dpkg/status` and the distroless
 * `var/lib/dpkg/status.d/*` files (their `*.md5sums` siblings are file lists, not packages).
 * See {@link readDpkgStatus} for what counts as installed and how fields map.
 *
 * `files` holds, of each package's installed files, only those that could be language packages or
 * binaries (see `keepPackageFile`), root-relative, from `info/<name>[:<arch>].list` (status) or
 * `status.d/<name>.md5sums` (distroless) when that list is in the same layer; at most
 * MAX_FILES_PER_PACKAGE per package and MAX_FILES_PER_DATABASE per layer, with a note when cut.
 */
export function scanDpkg(layer: LayerFiles): ScanResult {
  const packages: FoundPackage[] = [];
  const notes: string[] = [];
  const budget = { remaining: MAX_FILES_PER_DATABASE };
  let truncated = 0;
  const attach = (pkg: FoundPackage, lists: string[]) => {
    for (const list of lists) {
      const file = layer.files.get(list);
      if (!file) continue;
      const all = keptFiles(file.data);
      const take = Math.min(all.length, MAX_FILES_PER_PACKAGE, budget.remaining);
      if (take < all.length) truncated++;
      budget.remaining -= take;
      if (take > 0) pkg.files = all.slice(0, take);
      return;
    }
  };

  const status = layer.files.get(DPKG_STATUS_PATH);
  if (status) {
    const read = readDpkgStatus(status.data, DPKG_STATUS_PATH);
    notes.push(...read.notes);
    for (const pkg of read.packages) {
      const lists = [`${DPKG_INFO_DIR}/${pkg.name}.list`];
      if (pkg.arch) lists.unshift(`${DPKG_INFO_DIR}/${pkg.name}:${pkg.arch}.list`);
      attach(pkg, lists);
      packages.push(pkg);
    }
  }

  const entries = [...layer.files.keys()]
    .filter((p) => path.posix.dirname(p) === DPKG_STATUS_DIR && !p.endsWith('.md5sums'))
    .sort();
  for (const entry of entries) {
    const read = readDpkgStatus((layer.files.get(entry) as { data: Buffer }).data, entry);
    notes.push(...read.notes);
    for (const pkg of read.packages) {
      const lists = [`${DPKG_STATUS_DIR}/${pkg.name}.md5sums`];
      if (read.packages.length === 1) lists.push(`${entry}.md5sums`);
      attach(pkg, lists);
      packages.push(pkg);
    }
  }
  if (truncated > 0) notes.push(`file lists of ${truncated} package${truncated === 1 ? '' : 's'} were cut at the limit of kept files`);
  return { packages, notes };
}

/** The dpkg scanner (Debian, Ubuntu and derivatives, distroless). */
export const dpkgScanner: Scanner = {
  name: 'dpkg',
  version: '1',
  kind: 'package',
  files: {
    paths: [DPKG_STATUS_PATH],
    globs: [`${DPKG_STATUS_DIR}/*`, `${DPKG_INFO_DIR}/*.list`],
    maxBytes: MAX_DPKG_FILE_BYTES,
    extract,
  },
  scan: scanDpkg,
};
