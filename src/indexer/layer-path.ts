/** The longest path accepted, in UTF-16 units (Linux PATH_MAX is 4096 bytes). */
export const MAX_PATH_LENGTH = 4096;

/** A tar entry name made relative to the layer root. */
export interface LayerPath {
  /** `a/b/c`: no leading `/` or `./`, no `.`/`..`/empty segments, no trailing `/`; `''` is the root itself. */
  path: string;
  /** Set when the name tried to leave the root (`..` above it); `path` is where a runtime would put it. */
  escaped: boolean;
}

/**
 * Normalizes a tar entry name the way container runtimes resolve it inside the root: leading `/`
 * and `./` go, `.` and empty segments go, `..` is resolved lexically and never climbs above the
 * root (`../../etc/passwd` → `etc/passwd`, with `escaped` set). Returns null for names that are
 * too long or contain NUL, which no runtime can create.
 */
export function normalizeLayerPath(name: string): LayerPath | null {
  if (name.length > MAX_PATH_LENGTH || name.includes('\0')) return null;
  // Fast path: the usual `./usr/lib/x` or `usr/lib/x` with nothing to resolve.
  let start = 0;
  while (name.startsWith('./', start)) start += 2;
  while (name.charCodeAt(start) === 0x2f) start++;
  let end = name.length;
  while (end > start && name.charCodeAt(end - 1) === 0x2f) end--;
  const trimmed = name.slice(start, end);
  if (!needsResolving(trimmed)) return { path: trimmed === '.' ? '' : trimmed, escaped: false };

  const out: string[] = [];
  let escaped = false;
  for (const segment of trimmed.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (out.length === 0) escaped = true;
      else out.pop();
      continue;
    }
    out.push(segment);
  }
  return { path: out.join('/'), escaped };
}

function needsResolving(path: string): boolean {
  return path.includes('//') || path === '.' || path === '..' || path.startsWith('./') || path.startsWith('../')
    || path.includes('/./') || path.includes('/../') || path.endsWith('/.') || path.endsWith('/..');
}
