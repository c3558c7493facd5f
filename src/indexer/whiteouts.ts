/** A deletion recorded by a layer: hides `path` from lower layers, or for `opaque` everything under it. */
export interface Whiteout {
  /** The deleted path, or the opaque directory (`''` for the root), relative to the root. */
  path: string;
  /** True for `.wh..wh..opq`: the directory stays but nothing from lower layers shows inside it. */
  opaque: boolean;
}

const PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';

/**
 * What a normalized entry path means as an OCI whiteout: a `Whiteout`, `'reserved'` for other
 * `.wh..wh.` names (aufs bookkeeping, to be ignored), or null for an ordinary entry.
 */
export function whiteoutOf(path: string): Whiteout | 'reserved' | null {
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  if (!base.startsWith(PREFIX)) return null;
  const dir = slash === -1 ? '' : path.slice(0, slash);
  if (base === OPAQUE) return { path: dir, opaque: true };
  if (base.startsWith(PREFIX + PREFIX)) return 'reserved';
  const name = base.slice(PREFIX.length);
  if (name === '' || name === '.' || name === '..') return 'reserved';
  return { path: dir === '' ? name : `${dir}/${name}`, opaque: false };
}
