const PART = /^[A-Za-z0-9._+-]{1,128}$/;

/**
 * The `name:stream` of an RPM modularity label (`nodejs:18:8090020230810123456:a75119d5` →
 * `nodejs:18`), the form feeds scope records by; null for an empty or malformed label.
 */
export function moduleStream(label: string | null | undefined): string | null {
  const text = label?.trim() ?? '';
  if (text === '') return null;
  const [name = '', stream = ''] = text.split(':');
  return PART.test(name) && PART.test(stream) ? `${name}:${stream}` : null;
}
