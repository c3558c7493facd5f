import { UnauthorizedError } from '../../errors/app-error.ts';

/** Longest `Authorization` header accepted (tokens with an x5c chain are a few KiB). */
export const MAX_AUTHORIZATION_CHARS = 16 * 1024;

/** What came in the `Authorization` header. */
export type Credentials =
  | { kind: 'none' }
  | { kind: 'bearer'; token: string }
  /** Another scheme (`Basic …`); `value` is the whole header. */
  | { kind: 'other'; value: string };

/**
 * Reads the `Authorization` header: none, `Bearer <token>` (scheme case-insensitive) or another
 * scheme. A header over {@link MAX_AUTHORIZATION_CHARS}, repeated, or `Bearer` without a token
 * is refused with 401 (`headers` are added to the error, e.g. a challenge).
 */
export function readCredentials(header: string | string[] | undefined, headers: Record<string, string> = {}): Credentials {
  if (header === undefined || header === '') return { kind: 'none' };
  if (Array.isArray(header) || header.length > MAX_AUTHORIZATION_CHARS) {
    throw new UnauthorizedError('the Authorization header is malformed or too long', { code: 'invalid_token', headers });
  }
  const m = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?:[ \t]+(.*))?$/.exec(header.trim());
  if (m === null) throw new UnauthorizedError('the Authorization header is malformed', { code: 'invalid_token', headers });
  const rest = (m[2] ?? '').trim();
  if (m[1]!.toLowerCase() !== 'bearer') return { kind: 'other', value: header.trim() };
  if (rest === '' || /\s/.test(rest)) throw new UnauthorizedError('the bearer token is missing or malformed', { code: 'invalid_token', headers });
  return { kind: 'bearer', token: rest };
}
