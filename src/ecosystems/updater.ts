import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { EnrichmentRecord, VulnerabilityRecord } from './vulnerability-record.ts';

/** A conditional GET on a configured feed URL. */
export interface FeedRequest {
  url: string;
  /** Validators from the previous successful fetch of this URL. */
  etag?: string | null;
  lastModified?: string | null;
  /** Extra request headers (an API key); never logged. */
  headers?: Readonly<Record<string, string>>;
}

export type FeedResponse =
  | { status: 'unchanged' }
  | { status: 'ok'; etag: string | null; lastModified: string | null; body: Readable };

/** HTTP for updaters: only URLs under the feed's configured base are fetched; limits and timeouts applied. */
export interface FeedHttp {
  get(request: FeedRequest, signal?: AbortSignal): Promise<FeedResponse>;
}

/** Returned by `fetch` when nothing changed since `previous`: one request, no parse. */
export const UNCHANGED = Symbol('unchanged');

/** What a fetch stored: the files (in the run's spool directory) and the fingerprint for next time. */
export interface Fetched {
  /** Opaque, stored with the run; equal fingerprints mean equal data. */
  fingerprint: string;
  /** Validators per URL, passed back in `FetchContext.validators` next time. */
  validators: Record<string, { etag: string | null; lastModified: string | null }>;
  /** Paths of the downloaded files, in the spool directory. */
  files: string[];
  /**
   * The files hold only what changed since the previous run (an incremental API window): the
   * records are merged into the stored data instead of replacing it, so nothing counts as removed.
   */
  delta?: boolean;
}

export interface FetchContext {
  /** The configured base URL (`feeds.<name>.url`, defaulting to the upstream). */
  url: string;
  http: FeedHttp;
  /** A directory private to this run; downloads go here (never whole feeds in memory). */
  spoolDir: string;
  previousFingerprint: string | null;
  validators: Record<string, { etag: string | null; lastModified: string | null }>;
  signal?: AbortSignal;
}

/**
 * A feed updater: a conditional fetch, then a pure streaming parse of what was fetched. Parsing
 * never loads a whole feed into memory (tens to hundreds of MB) and never touches the network.
 * A malformed feed throws (the run fails and the previous data stays).
 */
export interface Updater {
  /** Stable name, also the config key: `feeds.<name>`. */
  readonly name: string;
  readonly version: string;
  /** The real upstream base URL. */
  readonly defaultUrl: string;
  fetch(context: FetchContext): Promise<Fetched | typeof UNCHANGED>;
  parse(fetched: Fetched): AsyncIterable<VulnerabilityRecord | EnrichmentRecord>;
}

/**
 * A feed an ecosystem offers, as configuration sees it: `feeds.<name>.url` (default `defaultUrl`),
 * `feeds.<name>.enabled`, and `feeds.<name>.options`, validated by `options` (which supplies the
 * defaults), then `create` builds the updater.
 */
export interface FeedDefinition<O = unknown> {
  readonly name: string;
  readonly defaultUrl: string;
  /** One line for `lookout feeds status` and the README. */
  readonly description: string;
  /** Whether a default configuration runs it. */
  readonly enabledByDefault: boolean;
  readonly options: z.ZodType<O>;
  create(config: { url: string; options: O }): Updater;
}
