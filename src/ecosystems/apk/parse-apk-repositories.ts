/** One line of `etc/apk/repositories`. */
export interface ApkRepository {
  /** The repository URL (or local path) as written. */
  url: string;
  /** The `@tag` pinning the repository (`@testing https://…`), if any: tagged repositories only serve packages asked for with that tag. */
  tag?: string;
  /** The release branch named in the URL: `3.19` for `…/v3.19/main`, `edge` for `…/edge/…`. */
  branch?: string;
  /** The last path segment: `main`, `community`, `testing`, `os` (Wolfi). */
  component?: string;
}

/**
 * Parses `etc/apk/repositories`: one repository per line, blank lines and `#` comments ignored,
 * an optional leading `@tag`. Lines are never rejected: a line without a recognisable branch
 * simply has none. At most 1,000 repositories are read.
 */
export function parseApkRepositories(text: string): ApkRepository[] {
  const out: ApkRepository[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (out.length >= 1000) break;
    const parts = line.split(/\s+/);
    const repo: ApkRepository = { url: '' };
    if (parts[0]?.startsWith('@') && parts.length > 1) {
      repo.tag = parts[0].slice(1);
      repo.url = parts[1] as string;
    } else {
      repo.url = parts[0] as string;
    }
    const segments = repo.url.replace(/\/+$/, '').split('/');
    const branch = segments.map((s) => /^v(\d+\.\d+)$/.exec(s)?.[1] ?? (s === 'edge' ? 'edge' : undefined)).filter((b) => b !== undefined).pop();
    if (branch) repo.branch = branch;
    const last = segments[segments.length - 1];
    if (last && segments.length > 1) repo.component = last;
    out.push(repo);
  }
  return out;
}
