import type { Dispatcher } from 'undici';
import { request } from 'undici';
import { MANIFEST_ACCEPT } from '../../registry/media-types.ts';
import { parseWwwAuthenticate } from '../../registry/www-authenticate.ts';

/** What {@link probeRegistryRead} asks. */
export interface RegistryReadProbe {
  /** The registry base URL (from configuration, never from a request). */
  registryUrl: string;
  /** A valid repository name. */
  repository: string;
  /** A valid tag or digest; without one the tag list (`?n=1`) is asked, which also needs `pull`. */
  reference?: string | undefined;
  /** The caller's `Authorization` header, forwarded as is; none for an anonymous check. */
  authorization?: string | undefined;
  dispatcher: Dispatcher;
  timeoutMs: number;
}

/** The registry's answer: its status and, for a 401, its challenge when it is a sane one. */
export interface RegistryReadAnswer {
  status: number;
  /** `WWW-Authenticate` of a 401 (Bearer or Basic, at most 2 KiB), to pass on to the caller. */
  challenge: string | null;
}

const MAX_CHALLENGE_CHARS = 2048;
const MAX_BODY_BYTES = 64 * 1024;

/**
 * Asks the registry whether these credentials may pull: `HEAD /v2/<repo>/manifests/<reference>`
 * with every manifest media type accepted (registry 2.8 answers 404 to a HEAD that does not accept
 * an OCI manifest), or `GET /v2/<repo>/tags/list?n=1` without a reference. Redirects are not
 * followed, bodies are discarded (at most 64 KiB read), the whole exchange is bounded by
 * `timeoutMs`. Network failures and timeouts reject (undici's errors).
 */
export async function probeRegistryRead(probe: RegistryReadProbe): Promise<RegistryReadAnswer> {
  const base = probe.registryUrl.replace(/\/+$/, '');
  const url =
    probe.reference === undefined
      ? `${base}/v2/${probe.repository}/tags/list?n=1`
      : `${base}/v2/${probe.repository}/manifests/${probe.reference}`;
  const headers: Record<string, string> = { accept: MANIFEST_ACCEPT, 'user-agent': 'lookout-auth' };
  if (probe.authorization !== undefined) headers.authorization = probe.authorization;
  const res = await request(url, {
    method: probe.reference === undefined ? 'GET' : 'HEAD',
    headers,
    dispatcher: probe.dispatcher,
    headersTimeout: probe.timeoutMs,
    bodyTimeout: probe.timeoutMs,
    signal: AbortSignal.timeout(probe.timeoutMs),
  });
  await res.body.dump({ limit: MAX_BODY_BYTES });
  let challenge: string | null = null;
  if (res.statusCode === 401) {
    const raw = res.headers['www-authenticate'];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value !== undefined && value.length <= MAX_CHALLENGE_CHARS) {
      const schemes = parseWwwAuthenticate(value).map((c) => c.scheme);
      if (schemes.includes('bearer') || schemes.includes('basic')) challenge = value;
    }
  }
  return { status: res.statusCode, challenge };
}
