/** One paragraph of a deb822 (Debian control) file. */
export interface ControlStanza {
  /** Field name in lower case (field names are case-insensitive) → value; continuation lines are joined with `\n`. */
  fields: Map<string, string>;
  /** The 1-based line the stanza starts on. */
  line: number;
}

/** The stanzas of a control file and the lines that could not be read. */
export interface ControlFile {
  stanzas: ControlStanza[];
  problems: string[];
}

/** The most problems listed for one file; the rest are counted in a last line. */
const MAX_PROBLEMS = 20;

/**
 * Parses a deb822 file (dpkg `status`, a distroless `status.d` entry): stanzas separated by blank
 * lines; `Name: value` fields; lines starting with a space or tab continue the previous field;
 * `#` comment lines are skipped; CR before LF is ignored. Never throws: a line that is neither a
 * field nor a continuation is listed in `problems` and skipped.
 */
export function parseControlStanzas(text: string): ControlFile {
  const stanzas: ControlStanza[] = [];
  const problems: string[] = [];
  let dropped = 0;
  const problem = (message: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(message);
    else dropped++;
  };
  let current: ControlStanza | null = null;
  let last: string | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') {
      current = null;
      last = null;
      continue;
    }
    if (line.startsWith('#')) continue;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (current === null || last === null) {
        problem(`line ${i + 1} continues no field`);
        continue;
      }
      current.fields.set(last, `${current.fields.get(last) ?? ''}\n${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (name === '' || /\s/.test(name)) {
      problem(`line ${i + 1} is not a "Field: value" line`);
      last = null;
      continue;
    }
    if (current === null) {
      current = { fields: new Map(), line: i + 1 };
      stanzas.push(current);
    }
    last = name.toLowerCase();
    current.fields.set(last, line.slice(colon + 1).trim());
  }
  if (dropped > 0) problems.push(`${dropped} more unreadable lines`);
  return { stanzas, problems };
}
