import picomatch from 'picomatch';
import { z } from 'zod';
import { SEVERITIES } from '../ecosystems/vulnerability-record.ts';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../errors/app-error.ts';
import type { Access } from '../http/auth/access.ts';
import { NOTIFICATION_EVENTS } from '../notifier/notification-payload.ts';
import { MAX_RECIPIENTS } from '../notifier/subscription-target.ts';
import { generateWebhookSecret } from '../notifier/webhook-signature.ts';
import { isRepositoryName } from '../registry/image-reference.ts';
import type { DeliveryState, DeliverySummary, NotificationStore } from '../store/notification-store.ts';
import type { NewSubscription, Subscription, SubscriptionStore } from '../store/subscription-store.ts';

/** Most repository patterns in one subscription. */
export const MAX_PATTERNS = 50;

const DELIVERY_STATES = ['pending', 'delivering', 'delivered', 'dead'] as const satisfies readonly DeliveryState[];

const pattern = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[a-z0-9._*/-]+$/, 'a repository name or glob: a-z 0-9 . _ - / and *');
const hookUrl = z.url({ protocol: /^https?$/ }).max(2048);
const secret = z.string().min(16).max(256);

const createBody = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'letters, digits, . _ - (at most 100)'),
  registry: z.string().min(1).max(100).optional(),
  repositories: z.array(pattern).min(1).max(MAX_PATTERNS),
  channel: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('email'), recipients: z.array(z.email().max(254)).min(1).max(MAX_RECIPIENTS) }),
    z.strictObject({ type: z.literal('webhook'), url: hookUrl, secret: secret.optional() }),
    z.strictObject({ type: z.literal('clair'), url: hookUrl, secret: secret.optional() }),
  ]),
  minSeverity: z.enum(SEVERITIES).default('Low'),
  events: z
    .array(z.enum(NOTIFICATION_EVENTS))
    .min(1)
    .max(NOTIFICATION_EVENTS.length)
    .default(['new-image', 'newly-affected', 'fix-available', 'resolved']),
});

/** A subscription as the API shows it: never its secret. */
export interface SubscriptionView {
  id: string;
  name: string;
  origin: 'config' | 'api';
  owner: string | null;
  registry: string | null;
  repositories: string[];
  /** The repositories it is limited to (those the creator could read), or null for no limit. */
  coveredRepositories: string[] | null;
  channel: { type: 'email'; recipients: string[] } | { type: 'webhook' | 'clair'; url: string };
  signed: boolean;
  minSeverity: string;
  events: string[];
  createdAt: string;
  links: { self: string; deadDeliveries: string };
}

/** A delivery as the API shows it. */
export interface DeliveryView {
  id: string;
  subscriptionId: string;
  subscriptionName: string;
  channel: string;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
  notificationCount: number;
  links: { self: string; retry: string | null };
}

/** What {@link SubscriptionService} needs. */
export interface SubscriptionServiceDeps {
  subscriptions: SubscriptionStore;
  notifications: NotificationStore;
  /** Names of the configured registries (a subscription's `registry` must be one). */
  registries: readonly string[];
  /** Origins webhook and Clair subscriptions may target; `*` allows any. */
  allowedWebhookOrigins: readonly string[];
  maxPerOwner: number;
  /** Called after a delivery is re-driven (wakes an in-process deliverer). */
  onRedrive?: () => void;
}

/**
 * Subscriptions and deliveries through the API (`/api/v1/subscriptions`, `/api/v1/notifications`),
 * authorized like the rest of the API:
 *
 * - Callers with access to everything (`api-key`, `psk`, `none`) see and manage every
 *   subscription and delivery; what they create covers every repository its patterns match.
 * - Registry callers own what they create (the owner is their subject) and see only their own.
 *   A new subscription is limited to the repositories they may read: with a registry token, the
 *   repositories its `access` claims name that the patterns match (none → 403); with
 *   `registry-delegate`, patterns must be exact names, each checked with the registry. For a
 *   delegate caller, whose subject is only claimed, a subscription is shown only while the
 *   registry still lets the credentials read one of its repositories.
 * - Anything not visible is 404, as for images. Subscriptions from the config file are read-only.
 * - Webhook targets must be on an allowed origin: a subscriber cannot make Lookout post to any
 *   host it names.
 */
export class SubscriptionService {
  private readonly deps: SubscriptionServiceDeps;

  constructor(deps: SubscriptionServiceDeps) {
    this.deps = deps;
  }

  /** Creates a subscription; the webhook secret (given or generated) is returned this once. */
  async create(access: Access, body: unknown): Promise<{ subscription: SubscriptionView; secret: string | null }> {
    access.assertAuthenticated();
    const parsed = createBody.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new BadRequestError(`invalid subscription: ${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid'}`, { code: 'invalid_subscription' });
    }
    const input = parsed.data;
    if (input.registry !== undefined && !this.deps.registries.includes(input.registry)) {
      throw new BadRequestError(`registry ${input.registry} is not configured`, { code: 'registry_not_configured' });
    }
    for (const p of input.repositories) {
      try {
        picomatch(p);
      } catch {
        throw new BadRequestError(`invalid repository pattern ${p}`, { code: 'invalid_subscription' });
      }
    }
    if (input.channel.type !== 'email') this.assertAllowedTarget(input.channel.url);
    const owner = access.all ? access.subject : this.ownerOf(access);
    const covered = await this.coveredRepositories(access, input.repositories);
    const existing = await this.deps.subscriptions.list(owner);
    if (existing.filter((s) => s.origin === 'api').length >= this.deps.maxPerOwner) {
      throw new ConflictError(`at most ${this.deps.maxPerOwner} subscriptions per owner`, { code: 'too_many_subscriptions' });
    }
    const hookSecret = input.channel.type === 'email' ? null : (input.channel.secret ?? generateWebhookSecret());
    const wanted: NewSubscription = {
      name: input.name,
      owner,
      registry: input.registry ?? null,
      repositories: input.repositories,
      channel: input.channel.type,
      target:
        input.channel.type === 'email'
          ? { recipients: [...new Set(input.channel.recipients)], allowedRepositories: covered }
          : { url: input.channel.url, allowedRepositories: covered },
      secret: hookSecret,
      minSeverity: input.minSeverity,
      events: [...new Set(input.events)],
    };
    const created = await this.deps.subscriptions.create(wanted);
    // Given secrets are the caller's own; only a generated one is news to them.
    return { subscription: view(created), secret: input.channel.type !== 'email' && input.channel.secret === undefined ? hookSecret : null };
  }

  /** The subscriptions the caller may see. */
  async list(access: Access): Promise<SubscriptionView[]> {
    return (await this.visibleSubscriptions(access)).map(view);
  }

  async get(access: Access, id: string): Promise<SubscriptionView> {
    return view(await this.visible(access, id));
  }

  /** Deletes an API subscription (its waiting notifications are no longer delivered). */
  async delete(access: Access, id: string): Promise<void> {
    const subscription = await this.visible(access, id);
    if (subscription.origin === 'config') throw new ConflictError('this subscription comes from the configuration file; change it there', { code: 'config_subscription' });
    if (!(await this.deps.subscriptions.delete(subscription.id))) throw new NotFoundError(`subscription ${id} is not known`);
  }

  /** Deliveries the caller may see, newest first. */
  async deliveries(access: Access, query: { state?: unknown; subscription?: unknown; before?: unknown; limit?: unknown }): Promise<{ items: DeliveryView[]; before: string | null }> {
    let state: DeliveryState | undefined;
    if (query.state !== undefined) {
      if (typeof query.state !== 'string' || !(DELIVERY_STATES as readonly string[]).includes(query.state)) {
        throw new BadRequestError(`state must be one of ${DELIVERY_STATES.join(', ')}`);
      }
      state = query.state as DeliveryState;
    }
    const limit = query.limit === undefined ? 50 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new BadRequestError('limit must be 1 to 200');
    if (query.before !== undefined && typeof query.before !== 'string') throw new BadRequestError('before must be a delivery id');
    let subscriptionIds: string[] | undefined;
    if (query.subscription !== undefined) {
      if (typeof query.subscription !== 'string') throw new BadRequestError('subscription must be an id');
      subscriptionIds = [(await this.visible(access, query.subscription)).id];
    } else if (!access.all) {
      subscriptionIds = (await this.visibleSubscriptions(access)).map((s) => s.id);
    }
    const rows = await this.deps.notifications.list({
      limit,
      ...(state === undefined ? {} : { state }),
      ...(typeof query.before === 'string' ? { before: query.before } : {}),
      ...(subscriptionIds === undefined ? {} : { subscriptionIds }),
    });
    return { items: rows.map(deliveryView), before: rows.length === limit ? rows[rows.length - 1]!.id : null };
  }

  async delivery(access: Access, id: string): Promise<DeliveryView> {
    return deliveryView(await this.visibleDelivery(access, id));
  }

  /** Re-drives a dead delivery: pending again, due now, with fresh attempts. */
  async retry(access: Access, id: string): Promise<DeliveryView> {
    const delivery = await this.visibleDelivery(access, id);
    if (delivery.state !== 'dead') throw new ConflictError(`delivery ${id} is ${delivery.state}, not dead`, { code: 'not_dead' });
    const pending = await this.deps.notifications.redrive(delivery.id);
    if (pending === null) throw new ConflictError(`delivery ${id} is no longer dead`, { code: 'not_dead' });
    this.deps.onRedrive?.();
    return deliveryView(pending);
  }

  private ownerOf(access: Access): string {
    if (access.subject === null) throw new ForbiddenError('these credentials name no user to own a subscription', { code: 'no_subject' });
    return access.subject;
  }

  private assertAllowedTarget(url: string): void {
    const target = new URL(url);
    if (target.username !== '' || target.password !== '') throw new BadRequestError('a webhook URL must not carry credentials; use the secret', { code: 'invalid_subscription' });
    const allowed = this.deps.allowedWebhookOrigins;
    if (allowed.includes('*') || allowed.some((o) => new URL(o).origin === target.origin)) return;
    throw new ForbiddenError(`webhooks to ${target.origin} are not allowed (notifier.allowedWebhookOrigins)`, { code: 'webhook_target_not_allowed' });
  }

  /** The repositories a new subscription is limited to, or null when the caller reads everything. */
  private async coveredRepositories(access: Access, patterns: readonly string[]): Promise<string[] | null> {
    if (access.all) return null;
    if (access.listed !== null) {
      const match = picomatch([...patterns]);
      const covered = [...access.listed].filter((r) => match(r)).sort();
      if (covered.length === 0) throw new ForbiddenError('the patterns match no repository these credentials may read', { code: 'forbidden' });
      return covered;
    }
    const names = [...new Set(patterns)];
    const glob = names.find((p) => !isRepositoryName(p));
    if (glob !== undefined) throw new BadRequestError(`${glob} is not a repository name: with this auth mode a subscription lists exact repositories`, { code: 'invalid_subscription' });
    for (const name of names) await access.assertRead(name);
    return names.sort();
  }

  private async visibleSubscriptions(access: Access): Promise<Subscription[]> {
    access.assertAuthenticated();
    if (access.all) return this.deps.subscriptions.list();
    if (access.subject === null) return [];
    const own = await this.deps.subscriptions.list(access.subject);
    const out: Subscription[] = [];
    for (const s of own) if (await this.stillReadable(access, s)) out.push(s);
    return out;
  }

  private async visible(access: Access, id: string): Promise<Subscription> {
    access.assertAuthenticated();
    const subscription = await this.deps.subscriptions.get(id);
    if (subscription === null) throw new NotFoundError(`subscription ${id} is not known`);
    if (access.all) return subscription;
    if (access.subject === null || subscription.owner !== access.subject || !(await this.stillReadable(access, subscription))) {
      throw new NotFoundError(`subscription ${id} is not known`);
    }
    return subscription;
  }

  private async visibleDelivery(access: Access, id: string): Promise<DeliverySummary> {
    access.assertAuthenticated();
    const delivery = await this.deps.notifications.get(id);
    if (delivery === null) throw new NotFoundError(`delivery ${id} is not known`);
    if (access.all) return delivery;
    try {
      await this.visible(access, delivery.subscriptionId);
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError(`delivery ${id} is not known`);
      throw err;
    }
    return delivery;
  }

  /** A delegate caller's claimed subject counts only while the registry accepts its credentials. */
  private async stillReadable(access: Access, subscription: Subscription): Promise<boolean> {
    if (!access.lazy) return true;
    for (const repository of subscription.target.allowedRepositories ?? []) {
      if (await access.mayRead(repository)) return true;
    }
    return false;
  }
}

function view(s: Subscription): SubscriptionView {
  return {
    id: s.id,
    name: s.name,
    origin: s.origin,
    owner: s.owner,
    registry: s.registry,
    repositories: s.repositories,
    coveredRepositories: s.target.allowedRepositories ?? null,
    channel: s.channel === 'email' ? { type: 'email', recipients: s.target.recipients ?? [] } : { type: s.channel, url: s.target.url ?? '' },
    signed: s.secret !== null,
    minSeverity: s.minSeverity,
    events: s.events,
    createdAt: s.createdAt.toISOString(),
    links: { self: `/api/v1/subscriptions/${s.id}`, deadDeliveries: `/api/v1/notifications?state=dead&subscription=${s.id}` },
  };
}

function deliveryView(d: DeliverySummary): DeliveryView {
  return {
    id: d.id,
    subscriptionId: d.subscriptionId,
    subscriptionName: d.subscriptionName,
    channel: d.channel,
    state: d.state,
    attempts: d.attempts,
    nextAttemptAt: d.nextAttemptAt.toISOString(),
    lastError: d.lastError,
    createdAt: d.createdAt.toISOString(),
    lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
    notificationCount: d.notificationCount,
    links: { self: `/api/v1/notifications/${d.id}`, retry: d.state === 'dead' ? `/api/v1/notifications/${d.id}/retry` : null },
  };
}
