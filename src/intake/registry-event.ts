/** Where a webhook came from (its path segment). */
export type WebhookSource = 'distribution' | 'harbor' | 'quay';

/**
 * One event from a registry webhook, normalized across sources. Hosts and URLs from the body are
 * never kept: only the repository, tag and digest, resolved later against the configured registry.
 */
export interface RegistryEvent {
  source: WebhookSource;
  /** The sender's event id (deduplication key); derived from the body where the sender has none. */
  eventId: string;
  /** push, delete, or what else the sender said (pull, mount, …: counted, not processed). */
  action: string;
  repository: string | null;
  tag: string | null;
  digest: string | null;
  mediaType: string | null;
  /** Tags a Quay push updated (no digest: each is resolved with a HEAD). */
  tags: string[];
  /** Whether this event starts work (a manifest push, a delete). */
  actionable: boolean;
  /** Why an event is not actionable (`blob push`, `pull`, …). */
  ignoredBecause: string | null;
  raw: unknown;
}
