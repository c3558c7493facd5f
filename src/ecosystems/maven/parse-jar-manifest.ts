/**
 * The main section of a JAR manifest (`META-INF/MANIFEST.MF`): attribute names lowercased (they
 * are case-insensitive), values with their 72-byte continuation lines joined. Reading stops at
 * the first blank line (per-entry sections follow) or after `maxLines` lines. The first
 * occurrence of an attribute wins. Never throws.
 */
export function parseJarManifest(text: string, maxLines = 10_000): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/, maxLines);
  let key: string | null = null;
  let value = '';
  const flush = (): void => {
    if (key !== null && !out.has(key)) out.set(key, value.trim());
    key = null;
  };
  for (const line of lines) {
    if (line === '') break;
    if (line.startsWith(' ')) {
      if (key !== null) value += line.slice(1);
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    key = line.slice(0, colon).trim().toLowerCase();
    value = line.slice(colon + 1).replace(/^ /, '');
  }
  flush();
  return out;
}
