/** Key names whose values are secrets wherever they appear (config, logged objects). */
export const SECRET_KEY = /(password|passwd|secret|token|apikey|api_key|privatekey|private_key|authorization|cookie)/i;

/** Replaces the password (and user) of a URL with `***`; leaves other strings unchanged. */
export function redactUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  if (url.username === '' && url.password === '') return value;
  url.username = url.username === '' ? '' : '***';
  url.password = url.password === '' ? '' : '***';
  return url.toString();
}

/** A deep copy of `value` with secret-named keys masked and URL credentials stripped. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (typeof value === 'string') return redactUrl(value);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) && child !== '' && child !== null && child !== undefined ? '***' : redactSecrets(child);
  }
  return out;
}
