import path from 'node:path';

/**
 * Where a symbolic link found at layer path `from` points, as a layer path (relative to the root,
 * no leading `/`): absolute targets are taken from the root, relative ones from the link's
 * directory; `..` never climbs above the root. `etc/os-release` → `../usr/lib/os-release` gives
 * `usr/lib/os-release`. Returns null for an empty target.
 */
export function resolveLinkTarget(from: string, target: string): string | null {
  if (target === '') return null;
  const joined = target.startsWith('/') ? target : path.posix.join('/', path.posix.dirname(from), target);
  const resolved = path.posix.normalize(path.posix.join('/', joined)).replace(/^\/+/, '');
  return resolved === '' || resolved === '.' ? null : resolved;
}
