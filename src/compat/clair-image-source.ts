import type { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import type { SourceConfig, SourceImage } from '../indexer/image-source.ts';
import type { Digest } from '../oci/digest.ts';
import { describeUrl } from '../registry/describe-url.ts';
import { RegistryError, type RegistryErrorKind } from '../registry/registry-error.ts';
import type { ClairManifest } from './clair-types.ts';
import type { CompatLimits } from './compat-limits.ts';

/** The media type given to the indexer for a layer the manifest does not type: the format is sniffed. */
const UNTYPED_LAYER = 'application/octet-stream';
/** Headers dropped once a redirect leaves the origin the manifest named. */
const ORIGIN_BOUND = new Set(['authorization', 'cookie']);

/** What {@link clairImageSource} needs to fetch layers. */
export interface ClairImageSourceDeps {
  /** The connection pool layers are fetched with. */
  dispatcher: Dispatcher;
  /** Whether a layer URI may be fetched at all (configured registries and allowed origins only). */
  allowed(url: URL): boolean;
  limits: Pick<CompatLimits, 'maxRedirects' | 'layerHeadersTimeoutMs' | 'layerBodyIdleMs'>;
  userAgent?: string;
}

/**
 * A {@link SourceImage} for a manifest submitted the Clair way: layers fetched from their `uri`
 * with the headers the client gave (undici), only when `allowed` accepts the URI; redirects are
 * followed by hand (at most `limits.maxRedirects`, never from https to http, without
 * Authorization or Cookie once the origin changes). There is no image config, so diff_ids are
 * unknown; the indexer verifies each layer against its digest as it streams. Errors name scheme,
 * host and path only (pre-signed URLs carry signatures in their query).
 */
export function clairImageSource(manifest: ClairManifest, deps: ClairImageSourceDeps): SourceImage {
  const digest = manifest.hash as Digest;
  return {
    digest,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    platform: null,
    layers: manifest.layers.map((l) => ({ digest: l.hash as Digest, mediaType: l.media_type ?? UNTYPED_LAYER, size: null })),
    async config(): Promise<SourceConfig> {
      return { digest, os: null, architecture: null, variant: null, diffIds: [] };
    },
    async openLayer(index: number, signal?: AbortSignal): Promise<Readable> {
      const layer = manifest.layers[index];
      if (!layer) throw new RangeError(`layer ${index} of ${digest} does not exist`);
      return fetchLayer(layer.uri, layer.headers, deps, signal);
    },
  };
}

async function fetchLayer(uri: string, given: Record<string, string[]>, deps: ClairImageSourceDeps, signal: AbortSignal | undefined): Promise<Readable> {
  let url = new URL(uri);
  if (!deps.allowed(url)) throw new RegistryError('not_allowed', `layer URI ${describeUrl(url)} is not on a configured registry or allowed origin`);
  const origin = url.origin;
  const headers: Record<string, string | string[]> = { 'user-agent': deps.userAgent ?? 'lookout' };
  for (const [name, values] of Object.entries(given)) headers[name.toLowerCase()] = values.length === 1 ? values[0]! : values;
  for (let hop = 0; ; hop++) {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: 'GET',
        headers: url.origin === origin ? headers : withoutOriginBound(headers),
        dispatcher: deps.dispatcher,
        headersTimeout: deps.limits.layerHeadersTimeoutMs,
        bodyTimeout: deps.limits.layerBodyIdleMs,
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      throw transportError(err, url, signal);
    }
    if (res.statusCode === 200) return res.body;
    const location = first(res.headers.location);
    await res.body.dump().catch(() => undefined);
    if ([301, 302, 303, 307, 308].includes(res.statusCode)) {
      if (hop >= deps.limits.maxRedirects) throw new RegistryError('bad_response', `layer ${describeUrl(url)}: more than ${deps.limits.maxRedirects} redirects`);
      let target: URL;
      try {
        target = new URL(location ?? '', url);
      } catch {
        throw new RegistryError('bad_response', `layer ${describeUrl(url)}: redirect to an invalid URL`);
      }
      if (location === undefined) throw new RegistryError('bad_response', `layer ${describeUrl(url)}: redirect without Location`);
      if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new RegistryError('not_allowed', `layer ${describeUrl(url)}: redirect to scheme ${target.protocol} refused`);
      if (url.protocol === 'https:' && target.protocol === 'http:') throw new RegistryError('not_allowed', `layer ${describeUrl(url)}: redirect from https to http refused`);
      url = target;
      continue;
    }
    throw new RegistryError(statusKind(res.statusCode), `layer ${describeUrl(url)} answered ${res.statusCode}`, { httpStatus: res.statusCode });
  }
}

function withoutOriginBound(headers: Record<string, string | string[]>): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !ORIGIN_BOUND.has(name)));
}

function statusKind(status: number): RegistryErrorKind {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'unavailable';
  return 'bad_response';
}

function transportError(err: unknown, url: URL, signal: AbortSignal | undefined): RegistryError {
  if (signal?.aborted) return new RegistryError('aborted', `layer ${describeUrl(url)}: aborted`, { cause: err });
  const code = (err as { code?: string } | null)?.code ?? '';
  const kind: RegistryErrorKind = /TIMEOUT/.test(code) ? 'timeout' : 'unavailable';
  return new RegistryError(kind, `layer ${describeUrl(url)}: ${code || 'request failed'}`, { cause: err });
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
