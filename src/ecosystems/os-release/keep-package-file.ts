/**
 * Which of an OS package's installed files are worth keeping in `FoundPackage.files`.
 *
 * The list exists to attribute language packages and binaries to the OS package that installed
 * them (so a Python wheel shipped by `python3-requests` is matched against the distribution feed,
 * not reported twice). A full file list is large (tens of thousands of paths in a full image), so
 * OS scanners keep only paths a language scanner could report:
 * - Python metadata: `…/site-packages|dist-packages/<x>.dist-info|.egg-info` (and `METADATA`,
 *   `PKG-INFO` inside them), plus `.egg-info` files;
 * - Node: `node_modules/<name>/package.json` and `node_modules/@scope/<name>/package.json`;
 * - Ruby: `specifications/*.gemspec`;
 * - Java archives: `*.jar`, `*.war`, `*.ear`, `*.jpi`, `*.hpi`;
 * - executables that may be Go or Rust binaries: any file directly under a `bin/`, `sbin/` or
 *   `libexec/` directory (and one level below `libexec/`).
 * Paths are returned relative to the root, without a leading `/` (the form layer paths use).
 */
export function keepPackageFile(path: string): boolean {
  if (/\/(?:site|dist)-packages\/[^/]+\.(?:dist-info|egg-info)(?:\/(?:METADATA|PKG-INFO))?$/.test(path)) return true;
  if (/(?:^|\/)node_modules\/(?:@[^/]+\/)?[^/@][^/]*\/package\.json$/.test(path)) return true;
  if (/(?:^|\/)specifications\/[^/]+\.gemspec$/.test(path)) return true;
  if (/\.(?:jar|war|ear|jpi|hpi)$/.test(path)) return true;
  if (/(?:^|\/)(?:s?bin|libexec)\/[^/]+$/.test(path)) return true;
  if (/(?:^|\/)libexec\/[^/]+\/[^/]+$/.test(path)) return true;
  return false;
}

/** A path as layer paths are written: no leading `/` or `./`. */
export function rootRelative(path: string): string {
  let p = path;
  while (p.startsWith('/') || p.startsWith('./')) p = p.startsWith('/') ? p.slice(1) : p.slice(2);
  return p;
}

/** The most files kept for one package, whatever the filter says. */
export const MAX_FILES_PER_PACKAGE = 5_000;
/** The most files kept for all the packages of one database together. */
export const MAX_FILES_PER_DATABASE = 200_000;

/**
 * Keeps the files of one package that pass {@link keepPackageFile}, within the limits above.
 * `budget` is shared across the packages of one database and decremented; the result says
 * whether anything was dropped for a limit (so the caller can note it once).
 */
export function selectPackageFiles(paths: Iterable<string>, budget: { remaining: number }): { files: string[]; truncated: boolean } {
  const files: string[] = [];
  let truncated = false;
  for (const raw of paths) {
    const path = rootRelative(raw);
    if (path === '' || !keepPackageFile(path)) continue;
    if (files.length >= MAX_FILES_PER_PACKAGE || budget.remaining <= 0) {
      truncated = true;
      break;
    }
    files.push(path);
    budget.remaining--;
  }
  return { files, truncated };
}
