import type { HttpResponse } from './registry-http.ts';
import { RegistryError, type RegistryErrorKind } from './registry-error.ts';

/** The largest error body read to find the registry's error code. */
const MAX_ERROR_BODY = 16 * 1024;

/**
 * A {@link RegistryError} for an unexpected status, with the registry's error code when its body
 * has one (`{"errors":[{"code":"MANIFEST_UNKNOWN"}]}`); the registry's free-text message is not
 * copied. 401 → `unauthorized`, 403 → `forbidden`, 404 → `not_found`, 429 → `rate_limited`,
 * 5xx → `unavailable`, anything else → `bad_response`. Consumes the body.
 */
export async function errorFromResponse(res: HttpResponse, label: string, what: string): Promise<RegistryError> {
  const status = res.statusCode;
  let code: string | null = null;
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > MAX_ERROR_BODY) break;
      chunks.push(chunk);
    }
    res.body.destroy();
    const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { errors?: Array<{ code?: unknown }> };
    const first = parsed.errors?.[0]?.code;
    if (typeof first === 'string' && /^[A-Z_]{1,64}$/.test(first)) code = first;
  } catch {
    res.body.destroy();
  }
  const kind: RegistryErrorKind =
    status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : status === 404 ? 'not_found' : status === 429 ? 'rate_limited' : status >= 500 ? 'unavailable' : 'bad_response';
  return new RegistryError(kind, `${label} answered ${status}${code ? ` ${code}` : ''} (${what})`, { httpStatus: status });
}
