/** The largest os-release-style file read; the spec's files are a few hundred bytes. */
export const MAX_RELEASE_FILE_BYTES = 64 * 1024;

/** The assignments of an os-release (or lsb-release) file, and what could not be read. */
export interface OsReleaseFields {
  /** `KEY` → unquoted, unescaped value. A later assignment of the same key wins. */
  fields: Record<string, string>;
  /** One plain sentence per line that is not a comment, a blank or a valid `KEY=value`. */
  problems: string[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses os-release per the freedesktop specification (also fits lsb-release): newline-separated
 * `KEY=value` assignments; `#` starts a comment line; blank lines are ignored; values may be
 * unquoted or in double or single quotes, with shell-style backslash escapes (`\"`, `\\`, `\$`,
 * `` \` ``) outside single quotes. Leading and trailing whitespace of a line and CR line endings
 * are tolerated. Never throws: unreadable lines are listed in `problems` and skipped, an
 * unterminated quote keeps what was read.
 */
export function parseOsRelease(text: string): OsReleaseFields {
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  const problems: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq < 0 ? '' : line.slice(0, eq).trim();
    if (eq < 0 || !KEY.test(key)) {
      problems.push(`line ${i + 1} is not a KEY=value assignment`);
      continue;
    }
    const { value, error } = unquote(line.slice(eq + 1).trim());
    if (error) problems.push(`line ${i + 1} (${key}): ${error}`);
    fields[key] = value;
  }
  return { fields, problems };
}

function unquote(raw: string): { value: string; error?: string } {
  let out = '';
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (quote === "'") {
      if (c === "'") quote = null;
      else out += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < raw.length && '"\\$`'.includes(raw[i + 1] as string)) out += raw[++i];
      else out += c;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '\\' && i + 1 < raw.length) {
      out += raw[++i];
    } else {
      out += c;
    }
  }
  return quote === null ? { value: out } : { value: out, error: `unterminated ${quote === '"' ? 'double' : 'single'} quote` };
}
