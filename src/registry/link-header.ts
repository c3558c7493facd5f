/** Longest `Link` header parsed. */
const MAX_LINK_CHARS = 8 * 1024;

/**
 * The target of the `rel="next"` link in a `Link` header (RFC 8288), resolved against `base`;
 * null when there is none or the header is malformed. Several links and several rel values per link
 * (`rel="next last"`) are understood; commas inside `<…>` or quotes do not split links.
 */
export function nextLink(value: string | readonly string[] | undefined | null, base: string): string | null {
  if (value === undefined || value === null) return null;
  const text = (typeof value === 'string' ? value : value.join(', ')).slice(0, MAX_LINK_CHARS);
  for (const link of splitLinks(text)) {
    const m = /^\s*<([^>]*)>\s*(.*)$/s.exec(link);
    if (!m) continue;
    const rel = /(?:^|;)\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(m[2]!);
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (!rels.includes('next')) continue;
    try {
      return new URL(m[1]!, base).toString();
    } catch {
      return null;
    }
  }
  return null;
}

function splitLinks(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let inAngle = false;
  let inQuote = false;
  for (const c of text) {
    if (c === '<' && !inQuote) inAngle = true;
    else if (c === '>' && !inQuote) inAngle = false;
    else if (c === '"' && !inAngle) inQuote = !inQuote;
    if (c === ',' && !inAngle && !inQuote) {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out;
}
