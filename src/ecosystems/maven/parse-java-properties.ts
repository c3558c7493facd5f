const ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', f: '\f' };

function unescape(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, code: string) =>
    code.length === 5 ? String.fromCharCode(parseInt(code.slice(1), 16)) : (ESCAPES[code] ?? code),
  );
}

/** Whether a logical line continues on the next one: it ends with an odd number of backslashes. */
function continues(line: string): boolean {
  let n = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

/**
 * Parses a Java `.properties` file (as `java.util.Properties.load` reads it): `#`/`!` comments,
 * `key=value`, `key: value` or `key value`, backslash line continuations and escapes. A later
 * key replaces an earlier one. At most `maxLines` physical lines are read. Never throws.
 */
export function parseJavaProperties(text: string, maxLines = 10_000): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r\n|\r|\n/, maxLines);
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] as string).replace(/^[ \t\f]+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (continues(line) && i + 1 < lines.length) line = line.slice(0, -1) + (lines[++i] as string).replace(/^[ \t\f]+/, '');
    if (continues(line)) line = line.slice(0, -1);
    let k = 0;
    while (k < line.length && !'=: \t\f'.includes(line[k] as string)) k += line[k] === '\\' ? 2 : 1;
    const key = line.slice(0, Math.min(k, line.length));
    let v = k;
    while (v < line.length && ' \t\f'.includes(line[v] as string)) v++;
    if (v < line.length && (line[v] === '=' || line[v] === ':')) v++;
    while (v < line.length && ' \t\f'.includes(line[v] as string)) v++;
    out.set(unescape(key), unescape(line.slice(v)));
  }
  return out;
}
