/**
 * The first `code` (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`, …) on `err` or its chain of causes,
 * looked for a few levels deep; undefined when there is none.
 */
export function errorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
