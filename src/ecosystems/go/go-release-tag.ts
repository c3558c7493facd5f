/**
 * A Go toolchain release (`go1.22.1`, `go1.20`, `go1.21rc2`, `go1.22.1 X:boringcrypto`) as a
 * module-style semantic version (`v1.22.1`, `v1.20.0`, `v1.21.0-rc.2`), the way the Go vulnerability
 * database keys the standard library as the `stdlib` module. Null for development builds (`devel …`) and anything else.
 */
export function goReleaseToSemver(release: string): string | null {
  const tag = release.trim().split(/\s+/)[0] ?? '';
  const match = /^go(1)(?:\.(\d+))?(?:\.(\d+))?(?:(beta|rc)(\d+))?$/.exec(tag);
  if (match === null) return null;
  const [, major, minor = '0', patch = '0', pre, preNumber] = match;
  return `v${major}.${minor}.${patch}${pre === undefined ? '' : `-${pre}.${preNumber}`}`;
}
