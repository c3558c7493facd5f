import { InvalidCvssError } from './invalid-cvss-error.ts';

/** Longest vector string accepted (the longest valid CVSS v4.0 vector is about 250 characters). */
export const MAX_VECTOR_LENGTH = 512;

/**
 * Splits `AB:x/CD:y/…` into a metric map, checking every name and value against `allowed`, that no
 * metric appears twice, and (when `ordered`) that metrics come in the order of `allowed`'s keys.
 * Metrics missing from the vector are absent from the result; callers check the mandatory ones.
 */
export function parseMetrics(
  vector: string,
  body: string,
  allowed: Readonly<Record<string, readonly string[]>>,
  ordered: boolean,
): Map<string, string> {
  if (body === '') throw new InvalidCvssError(vector, 'no metrics');
  const order = Object.keys(allowed);
  const metrics = new Map<string, string>();
  let lastIndex = -1;
  for (const part of body.split('/')) {
    const colon = part.indexOf(':');
    if (colon <= 0 || colon === part.length - 1) throw new InvalidCvssError(vector, `malformed metric ${JSON.stringify(part)}`);
    const name = part.slice(0, colon);
    const value = part.slice(colon + 1);
    const values = Object.hasOwn(allowed, name) ? allowed[name] : undefined;
    if (values === undefined) throw new InvalidCvssError(vector, `unknown metric ${JSON.stringify(name)}`);
    if (!values.includes(value)) throw new InvalidCvssError(vector, `invalid value ${JSON.stringify(value)} for ${name}`);
    if (metrics.has(name)) throw new InvalidCvssError(vector, `metric ${name} appears twice`);
    const index = order.indexOf(name);
    if (ordered && index < lastIndex) throw new InvalidCvssError(vector, `metric ${name} is out of order`);
    lastIndex = index;
    metrics.set(name, value);
  }
  return metrics;
}

/** Throws unless every one of `names` is in `metrics`. */
export function requireMetrics(vector: string, metrics: ReadonlyMap<string, string>, names: readonly string[], what: string): void {
  const missing = names.filter((n) => !metrics.has(n));
  if (missing.length > 0) throw new InvalidCvssError(vector, `missing ${what} metric${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
}
