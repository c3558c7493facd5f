/**
 * Bounds on what Clair and Harbor clients may ask of the compatibility APIs: every size or count
 * that comes from a request has a ceiling here.
 */
export interface CompatLimits {
  /** Largest request body (manifest, scan request, bulk delete), bytes. */
  bodyBytes: number;
  /** Layers in one submitted Clair manifest. */
  maxLayers: number;
  /** Headers per layer, and values per header. */
  maxLayerHeaders: number;
  /** Characters of one layer URI or one header value. */
  maxLayerUriChars: number;
  maxHeaderValueChars: number;
  /** Clair index requests worked at once; more are answered 429, as Clair does. */
  indexConcurrency: number;
  /** Digests in one bulk delete. */
  maxBulkDelete: number;
  /** Notification page size: the default and the largest asked for. */
  defaultPageSize: number;
  maxPageSize: number;
  /** Redirects followed when fetching a layer URI. */
  maxRedirects: number;
  /** Layer fetch timeouts, ms: until response headers, and the longest silence while the body streams. */
  layerHeadersTimeoutMs: number;
  layerBodyIdleMs: number;
  /** Harbor scans run at once by this process, and scans waiting for a slot before new ones are refused. */
  scanConcurrency: number;
  maxPendingScans: number;
}

/** Defaults: Quay's usual manifests, Clair's page size, modest concurrency. */
export const COMPAT_LIMITS: Readonly<CompatLimits> = Object.freeze({
  bodyBytes: 1024 * 1024,
  maxLayers: 256,
  maxLayerHeaders: 32,
  maxLayerUriChars: 8192,
  maxHeaderValueChars: 16 * 1024,
  indexConcurrency: 4,
  maxBulkDelete: 1000,
  defaultPageSize: 500,
  maxPageSize: 1000,
  maxRedirects: 5,
  layerHeadersTimeoutMs: 30_000,
  layerBodyIdleMs: 60_000,
  scanConcurrency: 2,
  maxPendingScans: 1000,
});
