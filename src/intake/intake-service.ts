import type { RegistryConfig } from '../config/config-schema.ts';
import { NotFoundError, UnauthorizedError } from '../errors/app-error.ts';
import type { Logger } from '../log/create-logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { isRepositoryName } from '../oci/repository-name.ts';
import type { WebhookEventStore } from '../store/webhook-event-store.ts';
import { parseDistributionEnvelope } from './parse-distribution-envelope.ts';
import { parseHarborEvent } from './parse-harbor-event.ts';
import { parseQuayEvent } from './parse-quay-event.ts';
import type { RegistryEvent, WebhookSource } from './registry-event.ts';
import { headerCarriesSecret, secretsEqual } from './webhook-auth.ts';

/** The queue that turns a stored registry event into manifest work. */
export const REGISTRY_EVENT_QUEUE = 'registry-event';

/** Payload of a {@link REGISTRY_EVENT_QUEUE} job: the stored event's row id. */
export interface RegistryEventJob {
  eventRowId: number;
}

export interface IntakeResult {
  accepted: number;
  duplicates: number;
  ignored: number;
}

/** What the HTTP edge hands over: headers (lowercase names) and query parameters. */
export interface WebhookCredentials {
  headers: Readonly<Record<string, string | undefined>>;
  query: Readonly<Record<string, string | undefined>>;
}

/**
 * Registry webhooks in: checks the sender, parses Distribution, Harbor and Quay payloads, and
 * stores each actionable event once (deduplicated on the sender's id) before answering, so an event
 * acknowledged with 202 is never lost; the {@link IntakeDispatcher} then gives each its job. Pulls,
 * mounts and blob pushes are only counted.
 */
export class IntakeService {
  private readonly registries: ReadonlyMap<string, RegistryConfig>;
  private readonly registryIds: ReadonlyMap<string, number>;
  private readonly store: WebhookEventStore;
  private readonly metrics: Metrics;
  private readonly logger: Logger;
  private readonly onStored: (() => void) | undefined;

  constructor(deps: {
    registries: readonly RegistryConfig[];
    registryIds: ReadonlyMap<string, number>;
    store: WebhookEventStore;
    metrics: Metrics;
    logger: Logger;
    /** Called when new events are stored (wakes this process's dispatcher, if it runs one). */
    onStored?: () => void;
  }) {
    this.registries = new Map(deps.registries.map((r) => [r.name, r]));
    this.registryIds = deps.registryIds;
    this.store = deps.store;
    this.metrics = deps.metrics;
    this.logger = deps.logger;
    this.onStored = deps.onStored;
  }

  /**
   * Checks the sender before the body is read: 404 for an unknown registry, 401 when the registry
   * has no webhook secret configured or the request does not carry it.
   */
  authenticate(source: WebhookSource, registryName: string, credentials: WebhookCredentials): RegistryConfig {
    const registry = this.registries.get(registryName);
    if (!registry) throw new NotFoundError(`no registry named ${registryName} is configured`, { code: 'unknown_registry' });
    const secret = registry.webhookSecret;
    if (secret === undefined) {
      throw new UnauthorizedError(`webhooks from ${registryName} are not accepted: it has no webhookSecret configured`);
    }
    const ok =
      source === 'quay'
        ? headerCarriesSecret(credentials.headers[registry.webhookHeader.toLowerCase()], secret) ||
          (credentials.query.token !== undefined && secretsEqual(credentials.query.token, secret))
        : headerCarriesSecret(credentials.headers.authorization, secret);
    if (!ok) {
      this.metrics.webhookEvents(source, 'unauthorized', 1);
      throw new UnauthorizedError('missing or wrong webhook secret');
    }
    return registry;
  }

  /** Parses and stores an authenticated webhook body; resolves once it is durable. */
  async receive(source: WebhookSource, registry: RegistryConfig, body: unknown): Promise<IntakeResult> {
    const registryId = this.registryIds.get(registry.name);
    if (registryId === undefined) throw new NotFoundError(`registry ${registry.name} is not set up`, { code: 'unknown_registry' });
    const events = parse(source, body).map(checkRepository);
    const actionable = events.filter((e) => e.actionable);
    const ignored = events.length - actionable.length;
    const inserted = await this.store.recordNew(registryId, actionable);
    if (inserted.length > 0) this.onStored?.();
    const result = { accepted: inserted.length, duplicates: actionable.length - inserted.length, ignored };
    this.metrics.webhookEvents(source, 'accepted', result.accepted);
    this.metrics.webhookEvents(source, 'duplicate', result.duplicates);
    this.metrics.webhookEvents(source, 'ignored', result.ignored);
    if (result.accepted > 0 || result.duplicates > 0) {
      this.logger.debug({ source, registry: registry.name, ...result }, 'intake webhook stored');
    }
    return result;
  }
}

function parse(source: WebhookSource, body: unknown): RegistryEvent[] {
  switch (source) {
    case 'distribution':
      return parseDistributionEnvelope(body);
    case 'harbor':
      return parseHarborEvent(body);
    case 'quay':
      return parseQuayEvent(body);
  }
}

function checkRepository(event: RegistryEvent): RegistryEvent {
  if (!event.actionable || isRepositoryName(event.repository)) return event;
  return { ...event, actionable: false, ignoredBecause: 'invalid repository name' };
}
