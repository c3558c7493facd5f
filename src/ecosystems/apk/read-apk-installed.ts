import type { FoundPackage } from '../scanner.ts';
import { decodeText } from '../os-release/decode-text.ts';
import { keepPackageFile, MAX_FILES_PER_PACKAGE } from '../os-release/keep-package-file.ts';

/** The packages of an apk database and what was skipped. */
export interface ApkInstalled {
  packages: FoundPackage[];
  notes: string[];
}

/**
 * Reads apk-tools' `lib/apk/db/installed`: records separated by blank lines, one `X:value` field
 * per line. Each record with `P` (name) and `V` (version) becomes an `apk` package with `A` as
 * `arch`, `o` (origin) as `sourceName` (the name when absent) and the version as `sourceVersion`,
 * `m` as `vendor`. `F:` (directory) and `R:` (file in the last directory) lines make the file list,
 * of which only paths worth keeping (see `keepPackageFile`) are kept, at most MAX_FILES_PER_PACKAGE
 * per package and `budget.remaining` in all. Never throws: unreadable lines and records missing
 * a name or version are counted in notes; invalid UTF-8 is replaced and noted.
 */
export function readApkInstalled(data: Uint8Array, path: string, budget: { remaining: number }): ApkInstalled {
  const notes: string[] = [];
  const { text, lossy } = decodeText(data);
  if (lossy) notes.push(`${path} is not valid UTF-8; invalid bytes were replaced`);
  const packages: FoundPackage[] = [];
  let badLines = 0;
  let firstBadLine = 0;
  const incomplete: string[] = [];
  let truncated = 0;

  let fields = new Map<string, string>();
  let files: string[] = [];
  let dir = '';
  let cut = false;
  let startLine = 1;
  const finish = () => {
    if (fields.size > 0) {
      const name = fields.get('P');
      const version = fields.get('V');
      if (!name || !version) {
        incomplete.push(name ? `${name} (no V)` : `line ${startLine} (no P)`);
      } else {
        const pkg: FoundPackage = { ecosystem: 'apk', name, version, path };
        pkg.sourceName = fields.get('o') || name;
        pkg.sourceVersion = version;
        const arch = fields.get('A');
        if (arch) pkg.arch = arch;
        const maintainer = fields.get('m');
        if (maintainer) pkg.vendor = maintainer;
        if (files.length > 0) pkg.files = files;
        if (cut) truncated++;
        packages.push(pkg);
      }
    }
    fields = new Map();
    files = [];
    dir = '';
    cut = false;
  };

  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') {
      finish();
      startLine = i + 2;
      continue;
    }
    if (line.length < 2 || line[1] !== ':' || !/[A-Za-z]/.test(line[0] as string)) {
      if (badLines++ === 0) firstBadLine = i + 1;
      continue;
    }
    const key = line[0] as string;
    const value = line.slice(2);
    if (key === 'F') {
      dir = value;
    } else if (key === 'R') {
      const file = dir === '' ? value : `${dir}/${value}`;
      if (keepPackageFile(file)) {
        if (files.length >= MAX_FILES_PER_PACKAGE || budget.remaining <= 0) cut = true;
        else {
          files.push(file);
          budget.remaining--;
        }
      }
    } else if (!fields.has(key)) {
      fields.set(key, value);
    }
  }
  finish();

  if (badLines > 0) notes.push(`${path}: ${badLines} line${badLines === 1 ? '' : 's'} not of the form "X:value" skipped (first: line ${firstBadLine})`);
  if (incomplete.length > 0) {
    const shown = incomplete.slice(0, 5).join(', ');
    notes.push(`${path}: ${incomplete.length} record${incomplete.length === 1 ? '' : 's'} without a name or version skipped: ${shown}${incomplete.length > 5 ? ', …' : ''}`);
  }
  if (truncated > 0) notes.push(`${path}: file lists of ${truncated} package${truncated === 1 ? '' : 's'} were cut at the limit of kept files`);
  return { packages, notes };
}
