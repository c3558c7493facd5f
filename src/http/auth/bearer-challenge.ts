/** Parameters of a `Bearer` challenge (RFC 6750 §3, docker token auth). */
export interface BearerChallengeParams {
  realm?: string;
  service?: string;
  /** `repository:<name>:pull` and the like. */
  scope?: string;
  /** `invalid_token`, `insufficient_scope`, `invalid_request`. */
  error?: string;
}

/**
 * A `WWW-Authenticate` value: `Bearer realm="…",service="…",scope="…",error="…"` with the given
 * parameters in that order, values quoted (`"` and `\` escaped, control characters dropped).
 */
export function bearerChallenge(params: BearerChallengeParams): string {
  const parts: string[] = [];
  for (const key of ['realm', 'service', 'scope', 'error'] as const) {
    const value = params[key];
    if (value !== undefined) parts.push(`${key}="${quote(value)}"`);
  }
  return parts.length === 0 ? 'Bearer' : `Bearer ${parts.join(',')}`;
}

function quote(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]/g, '').replace(/["\\]/g, (c) => `\\${c}`);
}

/** The scope a route asks for to read `repository`. */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}
