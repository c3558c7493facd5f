/**
 * Wraps a pure parser of version strings with a bounded cache, so matching, which compares the
 * same installed and fixed versions thousands of times per image, parses each string once. The
 * cache is dropped whole when it reaches `maxEntries` (inputs are length-limited by the parsers,
 * so memory stays bounded). Callers must treat the results as immutable: they are shared.
 */
export function memoizeParse<T>(parse: (input: string) => T, maxEntries = 8192): (input: string) => T {
  let cache = new Map<string, T>();
  return (input: string): T => {
    const hit = cache.get(input);
    if (hit !== undefined || cache.has(input)) return hit as T;
    const value = parse(input);
    if (cache.size >= maxEntries) cache = new Map();
    cache.set(input, value);
    return value;
  };
}
