import type { Knex } from 'knex';
import type { JobDb } from '../jobs/job-queue.ts';
import type { RegistryEvent } from '../intake/registry-event.ts';
import { knexJobDb } from './knex-job-db.ts';

/** A webhook event as stored. */
export interface StoredWebhookEvent {
  id: number;
  registryId: number;
  source: RegistryEvent['source'];
  eventId: string;
  action: string | null;
  repository: string | null;
  tag: string | null;
  digest: string | null;
  mediaType: string | null;
  body: unknown;
  state: 'received' | 'enqueued' | 'ignored' | 'processed' | 'failed';
  reason: string | null;
  receivedAt: Date;
}

/** Received registry events, deduplicated on (registry, source, sender's event id). */
export interface WebhookEventStore {
  /**
   * Stores the events not seen before, in state `received`, in one statement (so a 202 means the
   * event is durable). Returns the new ones; duplicates are skipped silently.
   */
  recordNew(registryId: number, events: readonly RegistryEvent[]): Promise<StoredWebhookEvent[]>;
  /**
   * Claims up to `limit` received events (oldest first, skipping rows another process holds) and,
   * in the same transaction, marks them enqueued and calls `then` with a connection in that
   * transaction to enqueue their jobs: an event leaves `received` exactly when its job exists.
   */
  claimReceived(limit: number, then: (claimed: StoredWebhookEvent[], db: JobDb) => Promise<void>): Promise<number>;
  get(id: number): Promise<StoredWebhookEvent | null>;
  /** Records how processing ended. */
  finish(id: number, state: 'processed' | 'ignored' | 'failed', reason?: string): Promise<void>;
  count(registryId?: number): Promise<number>;
}

interface Row {
  id: string;
  registry_id: string;
  source: RegistryEvent['source'];
  event_id: string;
  action: string | null;
  repository: string | null;
  tag: string | null;
  digest: string | null;
  media_type: string | null;
  body: unknown;
  state: StoredWebhookEvent['state'];
  reason: string | null;
  received_at: Date;
}

function fromRow(r: Row): StoredWebhookEvent {
  return {
    id: Number(r.id),
    registryId: Number(r.registry_id),
    source: r.source,
    eventId: r.event_id,
    action: r.action,
    repository: r.repository,
    tag: r.tag,
    digest: r.digest,
    mediaType: r.media_type,
    body: r.body,
    state: r.state,
    reason: r.reason,
    receivedAt: r.received_at,
  };
}

interface PendingInsert {
  rows: Record<string, unknown>[];
  resolve(rows: StoredWebhookEvent[]): void;
  reject(err: unknown): void;
}

/** Most events written by one statement, and statements in flight at once. */
const BATCH_ROWS = 500;
const CONCURRENT_FLUSHES = 3;

function toRow(registryId: number, e: RegistryEvent): Record<string, unknown> {
  return {
    registry_id: registryId,
    source: e.source,
    event_id: e.eventId,
    action: e.action,
    repository: e.repository,
    tag: e.tags.length > 1 ? null : e.tag,
    digest: e.digest,
    media_type: e.mediaType,
    body: JSON.stringify(e.raw),
    state: 'received',
  };
}

const keyOf = (r: { registry_id: unknown; source: unknown; event_id: unknown }) => `${String(r.registry_id)}\u0000${String(r.source)}\u0000${String(r.event_id)}`;

/**
 * {@link WebhookEventStore} on PostgreSQL. Webhooks arriving together are written together:
 * concurrent `recordNew` calls are coalesced into one multi-row INSERT (each caller still waits for
 * its own rows to be committed), which spares a round trip and a WAL flush per event under load.
 */
export class PgWebhookEventStore implements WebhookEventStore {
  private readonly knex: Knex;
  private readonly pending: PendingInsert[] = [];
  private flushes = 0;

  constructor(knex: Knex) {
    this.knex = knex;
  }

  recordNew(registryId: number, events: readonly RegistryEvent[]): Promise<StoredWebhookEvent[]> {
    if (events.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.pending.push({ rows: events.map((e) => toRow(registryId, e)), resolve, reject });
      if (this.flushes < CONCURRENT_FLUSHES) {
        this.flushes += 1;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch: PendingInsert[] = [];
        let count = 0;
        while (this.pending.length > 0 && (batch.length === 0 || count + this.pending[0]!.rows.length <= BATCH_ROWS)) {
          const next = this.pending.shift()!;
          batch.push(next);
          count += next.rows.length;
        }
        try {
          const inserted = await this.knex('webhook_events')
            .insert(batch.flatMap((p) => p.rows))
            .onConflict(['registry_id', 'source', 'event_id'])
            .ignore()
            .returning<Row[]>('*');
          // Each caller gets the rows it sent that were new; a key two callers sent is the first one's.
          const byKey = new Map(inserted.map((r) => [keyOf(r), r]));
          for (const p of batch) {
            const mine: StoredWebhookEvent[] = [];
            for (const row of p.rows) {
              const hit = byKey.get(keyOf(row as { registry_id: unknown; source: unknown; event_id: unknown }));
              if (hit) {
                mine.push(fromRow(hit));
                byKey.delete(keyOf(hit));
              }
            }
            p.resolve(mine);
          }
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.flushes -= 1;
    }
  }

  async claimReceived(limit: number, then: (claimed: StoredWebhookEvent[], db: JobDb) => Promise<void>): Promise<number> {
    return this.knex.transaction(async (trx) => {
      const { rows } = await trx.raw<{ rows: Row[] }>(
        `update webhook_events set state = 'enqueued'
         where id in (select id from webhook_events where state = 'received' order by id limit ? for update skip locked)
         returning *`,
        [limit],
      );
      if (rows.length > 0) await then(rows.map(fromRow), knexJobDb(trx));
      return rows.length;
    });
  }

  async get(id: number): Promise<StoredWebhookEvent | null> {
    const row = (await this.knex('webhook_events').where('id', id).first()) as Row | undefined;
    return row ? fromRow(row) : null;
  }

  async finish(id: number, state: 'processed' | 'ignored' | 'failed', reason?: string): Promise<void> {
    await this.knex('webhook_events').where({ id }).update({ state, reason: reason ?? null, processed_at: this.knex.fn.now() });
  }

  async count(registryId?: number): Promise<number> {
    const query = this.knex('webhook_events').count<{ count: string }[]>('* as count');
    if (registryId !== undefined) query.where({ registry_id: registryId });
    const [row] = await query;
    return Number(row?.count ?? 0);
  }
}
