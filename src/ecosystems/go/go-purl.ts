/** The package URL of a Go module (`pkg:golang/github.com/x/y@v1.2.3`); each path segment percent-encoded. */
export function goPurl(modulePath: string, version: string): string {
  const path = modulePath.split('/').map(encodeURIComponent).join('/');
  return version === '' ? `pkg:golang/${path}` : `pkg:golang/${path}@${encodeURIComponent(version)}`;
}
