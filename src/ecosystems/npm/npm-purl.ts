/** The package URL of an npm package (`pkg:npm/lodash@4.17.21`, `pkg:npm/%40babel/core@7.0.0`). */
export function npmPurl(name: string, version: string): string {
  const slash = name.startsWith('@') ? name.indexOf('/') : -1;
  const path = slash > 0
    ? `${encodeURIComponent(name.slice(0, slash))}/${encodeURIComponent(name.slice(slash + 1))}`
    : encodeURIComponent(name);
  return `pkg:npm/${path}@${encodeURIComponent(version)}`;
}
