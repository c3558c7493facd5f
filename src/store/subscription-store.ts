import type { Knex } from 'knex';
import type { Severity } from '../ecosystems/vulnerability-record.ts';

/** A subscription as stored. */
export interface Subscription {
  id: string;
  name: string;
  origin: 'config' | 'api';
  owner: string | null;
  registry: string | null;
  /** Repository patterns: exact names, `prefix/*`, or globs (`team/**`). */
  repositories: string[];
  channel: 'email' | 'webhook' | 'clair';
  target: { recipients?: string[]; url?: string; allowedRepositories?: string[] | null };
  secret: string | null;
  minSeverity: Severity;
  events: string[];
  createdAt: Date;
}

export interface NewSubscription {
  name: string;
  owner: string | null;
  registry: string | null;
  repositories: string[];
  channel: Subscription['channel'];
  target: Subscription['target'];
  secret: string | null;
  minSeverity: Severity;
  events: string[];
}

/** Subscriptions from config (kept in step with it at start) and from the API. */
export interface SubscriptionStore {
  /** Makes the config-origin subscriptions exactly `wanted` (by name): new ones added, changed ones updated, dropped ones deleted. */
  syncConfig(wanted: readonly NewSubscription[]): Promise<void>;
  create(subscription: NewSubscription): Promise<Subscription>;
  /** Live subscriptions (an owner's only, when given). */
  list(owner?: string | null): Promise<Subscription[]>;
  get(id: string): Promise<Subscription | null>;
  /** Soft-deletes an API subscription; config ones are refused (they come back with the config). */
  delete(id: string): Promise<boolean>;
}

function fromRow(r: Record<string, any>): Subscription {
  return {
    id: r.id,
    name: r.name,
    origin: r.origin,
    owner: r.owner,
    registry: r.registry,
    repositories: JSON.parse(r.repository_pattern) as string[],
    channel: r.channel,
    target: r.target,
    secret: r.secret,
    minSeverity: r.min_severity,
    events: r.events,
    createdAt: r.created_at,
  };
}

function toRow(s: NewSubscription, origin: 'config' | 'api'): Record<string, unknown> {
  return {
    name: s.name,
    origin,
    owner: s.owner,
    registry: s.registry,
    repository_pattern: JSON.stringify(s.repositories),
    pattern_kind: 'glob',
    channel: s.channel,
    target: JSON.stringify(s.target),
    secret: s.secret,
    min_severity: s.minSeverity,
    events: s.events,
  };
}

/**
 * Live subscriptions, oldest first (an owner's only, when given), read through `db`: the store's
 * connection or the transaction of a caller that must see its own writes.
 */
export async function liveSubscriptions(db: Knex | Knex.Transaction, owner?: string | null): Promise<Subscription[]> {
  const query = db('subscriptions').whereNull('deleted_at').orderBy('created_at');
  if (owner !== undefined) query.where({ owner });
  return (await query).map(fromRow);
}

/** {@link SubscriptionStore} on PostgreSQL. */
export class PgSubscriptionStore implements SubscriptionStore {
  private readonly knex: Knex;

  constructor(knex: Knex) {
    this.knex = knex;
  }

  async syncConfig(wanted: readonly NewSubscription[]): Promise<void> {
    await this.knex.transaction(async (trx) => {
      const existing = await trx('subscriptions').where({ origin: 'config' }).whereNull('deleted_at').forUpdate();
      const byName = new Map(existing.map((r) => [r.name as string, r]));
      for (const s of wanted) {
        const row = toRow(s, 'config');
        const current = byName.get(s.name);
        if (current) await trx('subscriptions').where({ id: current.id }).update(row);
        else await trx('subscriptions').insert(row);
        byName.delete(s.name);
      }
      for (const gone of byName.values()) await trx('subscriptions').where({ id: gone.id }).update({ deleted_at: trx.fn.now() });
    });
  }

  async create(subscription: NewSubscription): Promise<Subscription> {
    const [row] = await this.knex('subscriptions').insert(toRow(subscription, 'api')).returning('*');
    return fromRow(row);
  }

  list(owner?: string | null): Promise<Subscription[]> {
    return liveSubscriptions(this.knex, owner);
  }

  async get(id: string): Promise<Subscription | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    const row = await this.knex('subscriptions').where({ id }).whereNull('deleted_at').first();
    return row ? fromRow(row) : null;
  }

  async delete(id: string): Promise<boolean> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return false;
    const n = await this.knex('subscriptions').where({ id, origin: 'api' }).whereNull('deleted_at').update({ deleted_at: this.knex.fn.now() });
    return n > 0;
  }
}
