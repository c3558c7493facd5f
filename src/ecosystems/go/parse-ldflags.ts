/** Splits a flags string the way a shell would: spaces separate, single and double quotes group. */
export function splitFlags(flags: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < flags.length; i++) {
    const c = flags[i] as string;
    if (quote !== null) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < flags.length) word += flags[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The `-X importpath.name=value` assignments in a `-ldflags` value, in order. */
export function linkerAssignments(ldflags: string): Array<[string, string]> {
  const words = splitFlags(ldflags);
  const out: Array<[string, string]> = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    let assignment: string | undefined;
    if (word === '-X' || word === '--X') assignment = words[++i];
    else if (word.startsWith('-X=') || word.startsWith('--X=')) assignment = word.slice(word.indexOf('=') + 1);
    if (assignment === undefined) continue;
    const eq = assignment.indexOf('=');
    if (eq > 0) out.push([assignment.slice(0, eq), assignment.slice(eq + 1)]);
  }
  return out;
}

/**
 * The release a binary stamped on itself at link time (`-X main.version=v1.0.0`), for a main
 * module whose build info only says `(devel)`: a `-X` of a variable named `version`/`Version` in
 * package `main` or in the main module's own packages, whose value looks like a release. Returned
 * with a `v` prefix like module versions; null when there is none.
 */
export function releaseFromLdflags(ldflags: string, mainModule: string): string | null {
  for (const [name, value] of linkerAssignments(ldflags)) {
    const dot = name.lastIndexOf('.');
    if (dot <= 0) continue;
    const pkg = name.slice(0, dot);
    const variable = name.slice(dot + 1);
    if (variable !== 'version' && variable !== 'Version') continue;
    if (pkg !== 'main' && pkg !== mainModule && !pkg.startsWith(`${mainModule}/`)) continue;
    const release = value.trim();
    if (!/^v?\d+(\.\d+){0,2}([-+][0-9A-Za-z.+-]+)?$/.test(release)) continue;
    return release.startsWith('v') ? release : `v${release}`;
  }
  return null;
}
