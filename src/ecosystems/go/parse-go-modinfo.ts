/** A module as the build info names it. */
export interface GoModule {
  path: string;
  /** `v1.2.3`, a pseudo-version, `(devel)`, or '' for a replacement by a local directory. */
  version: string;
  sum?: string;
}

/** A module the binary was built with, and what replaced it (`=>` line), if anything. */
export interface GoDependency extends GoModule {
  replace?: GoModule;
}

/** The module information of a Go binary, as `go version -m` shows it. */
export interface GoModinfo {
  /** The main package path (`path` line). */
  path: string | null;
  /** The main module (`mod` line). */
  main: GoDependency | null;
  deps: GoDependency[];
  /** `build` settings in order (`-ldflags`, `CGO_ENABLED`, `vcs.revision`, …). */
  settings: Array<[string, string]>;
}

/** Undoes Go's `strconv.Quote` on a build setting value; the text as is when it is not quoted. */
function unquote(value: string): string {
  if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"')) return value;
  try {
    const parsed: unknown = JSON.parse(value.replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1').replace(/\\a/g, '\\u0007').replace(/\\v/g, '\\u000b'));
    return typeof parsed === 'string' ? parsed : value;
  } catch {
    return value.slice(1, -1);
  }
}

/**
 * Parses the module information text of Go build info (`path`, `mod`, `dep`, `=>`, `build`
 * lines, tab-separated). Unknown or malformed lines are skipped and counted in `skipped`.
 * Never throws.
 */
export function parseGoModinfo(text: string): { info: GoModinfo; skipped: number } {
  const info: GoModinfo = { path: null, main: null, deps: [], settings: [] };
  let skipped = 0;
  let last: GoDependency | null = null;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const fields = line.split('\t');
    const kind = fields[0];
    const module = (): GoDependency | null => {
      const path = fields[1] ?? '';
      return path === '' ? null : { path, version: fields[2] ?? '', ...(fields[3] ? { sum: fields[3] } : {}) };
    };
    switch (kind) {
      case 'path':
        info.path = fields[1] ?? null;
        break;
      case 'mod':
        last = info.main = module();
        if (last === null) skipped++;
        break;
      case 'dep': {
        last = module();
        if (last === null) skipped++;
        else info.deps.push(last);
        break;
      }
      case '=>': {
        const replacement = module();
        if (last === null || replacement === null) skipped++;
        else last.replace = replacement;
        last = null;
        break;
      }
      case 'build': {
        const setting = fields.slice(1).join('\t');
        const eq = setting.indexOf('=');
        if (eq <= 0) skipped++;
        else info.settings.push([unquote(setting.slice(0, eq)), unquote(setting.slice(eq + 1))]);
        break;
      }
      default:
        skipped++;
    }
  }
  return { info, skipped };
}
