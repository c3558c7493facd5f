import type { Knex } from 'knex';

/** The life of a delivery: pending → delivering (claimed) → delivered, or back to pending, or dead. */
export type DeliveryState = 'pending' | 'delivering' | 'delivered' | 'dead';

/** How a subscription is reached. */
export type NotificationChannel = 'email' | 'webhook' | 'clair';

/** One outbox row as stored; `payload` is checked by the notifier before use. */
export interface OutboxNotification {
  id: string;
  subscriptionId: string;
  manifestId: number;
  vulnName: string;
  event: string;
  updateRunId: number | null;
  payload: unknown;
  createdAt: Date;
}

/** The subscription a delivery goes to, as configured (secret included: never log it). */
export interface DeliverySubscription {
  id: string;
  name: string;
  channel: NotificationChannel;
  target: unknown;
  secret: string | null;
  deletedAt: Date | null;
}

/**
 * A delivery this process has claimed. `attempt` is the number of this attempt (1 for the first)
 * and fences the claim: recording an outcome succeeds only while nobody has claimed it since.
 */
export interface ClaimedDelivery {
  id: string;
  attempt: number;
  createdAt: Date;
  subscription: DeliverySubscription;
  /** The outbox rows it carries, oldest first. */
  notifications: OutboxNotification[];
}

/** A delivery as listed for operators (dead-letter list) and metrics. */
export interface DeliverySummary {
  id: string;
  subscriptionId: string;
  subscriptionName: string;
  channel: NotificationChannel;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  createdAt: Date;
  lastAttemptAt: Date | null;
  deliveredAt: Date | null;
  notificationCount: number;
}

/** A delivery made by {@link NotificationStore.batchPending}. */
export interface CreatedDelivery {
  id: string;
  subscriptionId: string;
  channel: NotificationChannel;
  notificationCount: number;
}

/** Deliveries per state, and outbox rows not yet in a delivery. */
export interface DeliveryCounts {
  pending: number;
  delivering: number;
  delivered: number;
  dead: number;
  unbatched: number;
}

/** Which deliveries {@link NotificationStore.list} returns. */
export interface DeliveryListOptions {
  limit: number;
  state?: DeliveryState;
  /** A delivery id from the previous page: only older ones. */
  before?: string;
  /** Only deliveries to these subscriptions. */
  subscriptionIds?: readonly string[];
}

/** When waiting outbox rows of one subscription become one delivery. */
export interface BatchOptions {
  /** Rows are batched once the oldest waiting row is at least this old… */
  windowSeconds: number;
  /** …or this many wait; a delivery takes at most this many. */
  maxBatchSize: number;
  /** Deliveries made in one call at most (bounds the work of one call). */
  maxDeliveries?: number;
}

/** One outbox row to write, in the caller's transaction (see {@link writeOutbox}). */
export interface OutboxEntry {
  subscriptionId: string;
  manifestId: number;
  vulnName: string;
  event: string;
  updateRunId?: number | null;
  /** Unique per (subscription, image, vulnerability, change): writing it twice keeps the first. */
  dedupeKey: string;
  /** A `NotificationPayload` (src/notifier/notification-payload.ts). */
  payload: unknown;
}

/**
 * The notification outbox and its deliveries. Any number of processes may share it: batching and
 * claiming lock rows with `FOR UPDATE SKIP LOCKED`, so an outbox row joins one delivery and a due
 * delivery is claimed by one process at a time. A claim is a lease: when its process dies, the
 * delivery becomes claimable again once `leaseSeconds` have passed (at-least-once on the wire).
 */
export interface NotificationStore {
  /**
   * Groups waiting outbox rows of live subscriptions into deliveries, per subscription: when the
   * oldest has waited `windowSeconds` or `maxBatchSize` rows wait, up to `maxBatchSize` rows
   * (oldest first) become one pending delivery, due now.
   */
  batchPending(options: BatchOptions): Promise<CreatedDelivery[]>;
  /**
   * Claims up to `limit` due deliveries (pending, or delivering with a lapsed lease), oldest due
   * first: each becomes `delivering` until now + `leaseSeconds`, and its attempt count goes up.
   */
  claimDue(limit: number, leaseSeconds: number): Promise<ClaimedDelivery[]>;
  /** Marks a claimed delivery delivered; false if it was no longer pending or delivering. */
  recordSuccess(claim: Pick<ClaimedDelivery, 'id' | 'attempt'>): Promise<boolean>;
  /**
   * Records a failed attempt with its reason: pending again in `retryInMs`, or dead when
   * `retryInMs` is null. Null when the claim was taken over meanwhile (nothing recorded).
   */
  recordFailure(claim: Pick<ClaimedDelivery, 'id' | 'attempt'>, failure: { error: string; retryInMs: number | null }): Promise<'pending' | 'dead' | null>;
  /** Hands a claimed delivery back unsent (rate limit): pending in `delayMs`, the attempt not counted. */
  defer(claim: Pick<ClaimedDelivery, 'id' | 'attempt'>, delayMs: number): Promise<boolean>;
  get(id: string): Promise<DeliverySummary | null>;
  /**
   * Deliveries newest first, in one state when given, of the given subscriptions when given;
   * `before` (a delivery id from the previous page) pages on.
   */
  list(options: DeliveryListOptions): Promise<DeliverySummary[]>;
  /** {@link list} of the dead-letter queue. */
  listDead(options: Omit<DeliveryListOptions, 'state' | 'subscriptionIds'> & { subscriptionId?: string }): Promise<DeliverySummary[]>;
  /**
   * Makes a dead delivery pending again, due now, with a fresh count of attempts, and returns it as
   * it was made (a running deliverer may claim it the next moment); null if it is not dead.
   */
  redrive(id: string): Promise<DeliverySummary | null>;
  counts(): Promise<DeliveryCounts>;
  /** A delivery's outbox rows, oldest first, `limit` at a time after the row `after` (Clair-style paging). */
  notificationsOf(deliveryId: string, page: { limit: number; after?: string }): Promise<OutboxNotification[]>;
  /** When the next pending delivery is due (now or past when one is), or null when none waits. */
  nextDueAt(): Promise<Date | null>;
  /**
   * Retention: deletes deliveries that ended (delivered, or dead: no longer re-drivable) before
   * `before`, with their outbox rows; outbox rows never batched that were written before then
   * (their subscription or image is gone, or nobody could send them); and the findings no row
   * names any more. Works in bounded transactions; several processes may prune at once.
   */
  prune(before: Date): Promise<PruneSummary>;
}

/** What {@link NotificationStore.prune} deleted. */
export interface PruneSummary {
  deliveries: number;
  notifications: number;
  findings: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_PAGE = 1000;
const MAX_ERROR = 2000;
/** Outbox rows locked by one batching transaction at most. */
const MAX_ROWS_PER_BATCHING = 5000;
/** Deliveries (or unbatched outbox rows) deleted by one pruning statement at most. */
const MAX_PRUNED_PER_STATEMENT = 2000;

interface NotificationRow {
  id: string;
  subscription_id: string;
  manifest_id: string;
  vuln_name: string;
  event: string;
  update_run_id: string | null;
  payload: unknown;
  created_at: Date;
}

interface ClaimRow {
  id: string;
  attempts: number;
  created_at: Date;
  subscription_id: string;
  name: string;
  channel: NotificationChannel;
  target: unknown;
  secret: string | null;
  deleted_at: Date | null;
  /** json_agg of the outbox rows: timestamps arrive as ISO strings. */
  notifications: (Omit<NotificationRow, 'created_at'> & { created_at: string })[];
}

interface SummaryRow {
  id: string;
  subscription_id: string;
  subscription_name: string;
  channel: NotificationChannel;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  created_at: Date;
  last_attempt_at: Date | null;
  delivered_at: Date | null;
  notification_count: string | number;
}

function fromNotificationRow(r: NotificationRow): OutboxNotification {
  return {
    id: r.id,
    subscriptionId: r.subscription_id,
    manifestId: Number(r.manifest_id),
    vulnName: r.vuln_name,
    event: r.event,
    updateRunId: r.update_run_id === null ? null : Number(r.update_run_id),
    payload: r.payload,
    createdAt: r.created_at,
  };
}

function fromSummaryRow(r: SummaryRow): DeliverySummary {
  return {
    id: r.id,
    subscriptionId: r.subscription_id,
    subscriptionName: r.subscription_name,
    channel: r.channel,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    createdAt: r.created_at,
    lastAttemptAt: r.last_attempt_at,
    deliveredAt: r.delivered_at,
    notificationCount: Number(r.notification_count),
  };
}

const SUMMARY_COLUMNS = `
  d.id, d.subscription_id, s.name as subscription_name, s.channel, d.state, d.attempts, d.next_attempt_at,
  d.last_error, d.created_at, d.last_attempt_at, d.delivered_at,
  (select count(*) from notifications n where n.delivery_id = d.id and exists (select 1 from manifests m where m.id = n.manifest_id)) as notification_count`;

/**
 * Writes outbox rows through `db` (the caller's transaction, so they exist exactly when the change
 * that caused them commits); a row whose `dedupeKey` exists already is skipped. Returns the ids written.
 */
export async function writeOutbox(db: Knex | Knex.Transaction, entries: readonly OutboxEntry[]): Promise<string[]> {
  if (entries.length === 0) return [];
  const { rows } = await db.raw<{ rows: { id: string }[] }>(
    `insert into notifications (subscription_id, manifest_id, vuln_name, event, update_run_id, dedupe_key, payload)
     select u.subscription_id, u.manifest_id, u.vuln_name, u.event, u.update_run_id, md5(u.dedupe_key)::uuid, u.payload::json
       from unnest(?::uuid[], ?::bigint[], ?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[])
            as u(subscription_id, manifest_id, vuln_name, event, update_run_id, dedupe_key, payload)
     on conflict (dedupe_key) where dedupe_key is not null do nothing
     returning id`,
    [
      entries.map((e) => e.subscriptionId),
      entries.map((e) => e.manifestId),
      entries.map((e) => e.vulnName),
      entries.map((e) => e.event),
      entries.map((e) => e.updateRunId ?? null),
      entries.map((e) => e.dedupeKey),
      entries.map((e) => JSON.stringify(e.payload)),
    ] as unknown as Knex.RawBinding[],
  );
  return rows.map((r) => r.id);
}

/** {@link NotificationStore} on PostgreSQL. Times are the database's clock (`now()`). */
export class PgNotificationStore implements NotificationStore {
  private readonly knex: Knex;

  constructor(knex: Knex) {
    this.knex = knex;
  }

  async batchPending(options: BatchOptions): Promise<CreatedDelivery[]> {
    const { windowSeconds, maxBatchSize } = options;
    const maxDeliveries = options.maxDeliveries ?? 1000;
    if (!(windowSeconds >= 0) || !Number.isInteger(maxBatchSize) || maxBatchSize < 1) throw new RangeError('batching needs windowSeconds >= 0 and a whole maxBatchSize >= 1');
    // Per live subscription, at most a batch of its oldest waiting rows is looked at (through the
    // undelivered index), however many wait.
    const { rows: due } = await this.knex.raw<{ rows: { subscription_id: string; channel: NotificationChannel }[] }>(
      `select s.id as subscription_id, s.channel
         from subscriptions s
         cross join lateral (
           select count(*) as n, min(x.created_at) as oldest
             from (select created_at from notifications n where n.subscription_id = s.id and n.delivery_id is null order by created_at limit ?) x
         ) w
        where s.deleted_at is null and w.n > 0 and (w.n >= ? or w.oldest <= now() - make_interval(secs => ?))
        order by w.oldest
        limit ?`,
      [maxBatchSize, maxBatchSize, windowSeconds, maxDeliveries],
    );
    const created: CreatedDelivery[] = [];
    for (const { subscription_id: subscriptionId, channel } of due) {
      for (;;) {
        const room = maxDeliveries - created.length;
        if (room <= 0) return created;
        const made = await this.batchSubscription(subscriptionId, channel, windowSeconds, maxBatchSize, Math.min(room, Math.max(1, Math.floor(MAX_ROWS_PER_BATCHING / maxBatchSize))));
        created.push(...made.deliveries);
        if (!made.more) break;
      }
    }
    return created;
  }

  /**
   * In one transaction, up to `chunks` deliveries of the oldest waiting rows of one subscription:
   * rows in order, `maxBatchSize` a delivery; a delivery is made when it is full or its oldest row
   * has waited the window. `more` says that every chunk was full (more rows may wait).
   */
  private async batchSubscription(
    subscriptionId: string,
    channel: NotificationChannel,
    windowSeconds: number,
    maxBatchSize: number,
    chunks: number,
  ): Promise<{ deliveries: CreatedDelivery[]; more: boolean }> {
    return this.knex.transaction(async (trx) => {
      const { rows } = await trx.raw<{ rows: { id: string; old: boolean }[] }>(
        `select id, created_at <= now() - make_interval(secs => ?) as old
           from notifications
          where subscription_id = ? and delivery_id is null
          order by created_at, id
          limit ?
          for update skip locked`,
        [windowSeconds, subscriptionId, maxBatchSize * chunks],
      );
      const groups: string[][] = [];
      for (let i = 0; i < rows.length; i += maxBatchSize) {
        const group = rows.slice(i, i + maxBatchSize);
        if (group.length < maxBatchSize && !group[0]!.old) break;
        groups.push(group.map((r) => r.id));
      }
      if (groups.length === 0) return { deliveries: [], more: false };
      const { rows: made } = await trx.raw<{ rows: { id: string }[] }>(
        'insert into notification_deliveries (subscription_id) select ? from generate_series(1, ?) returning id',
        [subscriptionId, groups.length],
      );
      const notificationIds = groups.flat();
      const deliveryIds = groups.flatMap((group, i) => group.map(() => made[i]!.id));
      await trx.raw(
        `update notifications n set delivery_id = v.delivery_id
           from (select unnest(?::uuid[]) as id, unnest(?::uuid[]) as delivery_id) v
          where n.id = v.id`,
        [notificationIds, deliveryIds],
      );
      const deliveries = groups.map((group, i) => ({ id: made[i]!.id, subscriptionId, channel, notificationCount: group.length }));
      return { deliveries, more: groups.length === chunks && groups.at(-1)!.length === maxBatchSize };
    });
  }

  async claimDue(limit: number, leaseSeconds: number): Promise<ClaimedDelivery[]> {
    if (!Number.isInteger(limit) || limit < 1) return [];
    // One statement: claim, then read each claimed delivery's subscription and outbox rows.
    const { rows } = await this.knex.raw<{ rows: ClaimRow[] }>(
      `with due as (
         select id from notification_deliveries
          where state in ('pending', 'delivering') and next_attempt_at <= now()
          order by next_attempt_at, id
          limit ?
          for update skip locked),
       claimed as (
         update notification_deliveries d
            set state = 'delivering', attempts = d.attempts + 1, last_attempt_at = now(),
                next_attempt_at = now() + make_interval(secs => ?)
           from due where d.id = due.id
         returning d.id, d.attempts, d.created_at, d.subscription_id, d.next_attempt_at)
       select c.id, c.attempts, c.created_at, s.id as subscription_id, s.name, s.channel, s.target, s.secret, s.deleted_at,
              coalesce((select json_agg(json_build_object(
                          'id', n.id, 'subscription_id', n.subscription_id, 'manifest_id', n.manifest_id,
                          'vuln_name', n.vuln_name, 'event', n.event, 'update_run_id', n.update_run_id,
                          'payload', p.payload, 'created_at', n.created_at) order by n.created_at, n.id)
                          from notifications n join notification_payloads p on p.id = n.id where n.delivery_id = c.id
                           and exists (select 1 from manifests m where m.id = n.manifest_id)), '[]'::json) as notifications
         from claimed c join subscriptions s on s.id = c.subscription_id
        order by c.next_attempt_at, c.id`,
      [limit, leaseSeconds],
    );
    return rows.map((r) => ({
      id: r.id,
      attempt: r.attempts,
      createdAt: r.created_at,
      subscription: { id: r.subscription_id, name: r.name, channel: r.channel, target: r.target, secret: r.secret, deletedAt: r.deleted_at },
      notifications: r.notifications.map((n) => fromNotificationRow({ ...n, created_at: new Date(n.created_at) })),
    }));
  }

  async recordSuccess(claim: Pick<ClaimedDelivery, 'id' | 'attempt'>): Promise<boolean> {
    // A success is a fact even when the lease lapsed meanwhile: record it unless already final.
    const count = await this.knex('notification_deliveries')
      .where({ id: claim.id })
      .whereIn('state', ['pending', 'delivering'])
      .update({ state: 'delivered', delivered_at: this.knex.fn.now(), last_error: null });
    return count > 0;
  }

  async recordFailure(claim: Pick<ClaimedDelivery, 'id' | 'attempt'>, failure: { error: string; retryInMs: number | null }): Promise<'pending' | 'dead' | null> {
    const state = failure.retryInMs === null ? 'dead' : 'pending';
    const retrySeconds = Math.max(0, failure.retryInMs ?? 0) / 1000;
    const count = await this.knex('notification_deliveries')
      .where({ id: claim.id, state: 'delivering', attempts: claim.attempt })
      .update({
        state,
        last_error: failure.error.slice(0, MAX_ERROR),
        next_attempt_at: this.knex.raw('now() + make_interval(secs => ?)', [retrySeconds]),
      });
    return count > 0 ? state : null;
  }

  async defer(claim: Pick<ClaimedDelivery, 'id' | 'attempt'>, delayMs: number): Promise<boolean> {
    const count = await this.knex('notification_deliveries')
      .where({ id: claim.id, state: 'delivering', attempts: claim.attempt })
      .update({
        state: 'pending',
        attempts: this.knex.raw('greatest(attempts - 1, 0)'),
        next_attempt_at: this.knex.raw('now() + make_interval(secs => ?)', [Math.max(0, delayMs) / 1000]),
      });
    return count > 0;
  }

  async get(id: string): Promise<DeliverySummary | null> {
    if (!UUID.test(id)) return null;
    const { rows } = await this.knex.raw<{ rows: SummaryRow[] }>(
      `select ${SUMMARY_COLUMNS} from notification_deliveries d join subscriptions s on s.id = d.subscription_id where d.id = ?`,
      [id],
    );
    return rows[0] ? fromSummaryRow(rows[0]) : null;
  }

  async list(options: DeliveryListOptions): Promise<DeliverySummary[]> {
    const limit = Math.min(MAX_PAGE, Math.max(1, Math.floor(options.limit)));
    const where: string[] = ['true'];
    const bindings: unknown[] = [];
    if (options.state !== undefined) {
      where.push('d.state = ?');
      bindings.push(options.state);
    }
    if (options.subscriptionIds !== undefined) {
      const ids = options.subscriptionIds.filter((id) => UUID.test(id));
      if (ids.length === 0) return [];
      where.push('d.subscription_id = any(?::uuid[])');
      bindings.push(ids);
    }
    if (options.before !== undefined) {
      if (!UUID.test(options.before)) return [];
      where.push('(d.created_at, d.id) < (select created_at, id from notification_deliveries where id = ?)');
      bindings.push(options.before);
    }
    const { rows } = await this.knex.raw<{ rows: SummaryRow[] }>(
      `select ${SUMMARY_COLUMNS} from notification_deliveries d join subscriptions s on s.id = d.subscription_id
        where ${where.join(' and ')} order by d.created_at desc, d.id desc limit ?`,
      [...bindings, limit] as Knex.RawBinding[],
    );
    return rows.map(fromSummaryRow);
  }

  async listDead(options: Omit<DeliveryListOptions, 'state' | 'subscriptionIds'> & { subscriptionId?: string }): Promise<DeliverySummary[]> {
    const { subscriptionId, ...rest } = options;
    return this.list({ ...rest, state: 'dead', ...(subscriptionId === undefined ? {} : { subscriptionIds: [subscriptionId] }) });
  }

  async redrive(id: string): Promise<DeliverySummary | null> {
    if (!UUID.test(id)) return null;
    const { rows } = await this.knex.raw<{ rows: SummaryRow[] }>(
      `with d as (update notification_deliveries set state = 'pending', attempts = 0, next_attempt_at = now()
                   where id = ? and state = 'dead' returning *)
       select ${SUMMARY_COLUMNS} from d join subscriptions s on s.id = d.subscription_id`,
      [id],
    );
    return rows[0] ? fromSummaryRow(rows[0]) : null;
  }

  async counts(): Promise<DeliveryCounts> {
    const { rows } = await this.knex.raw<{ rows: { state: DeliveryState; count: string }[] }>(
      'select state, count(*) as count from notification_deliveries group by state',
    );
    const counts: DeliveryCounts = { pending: 0, delivering: 0, delivered: 0, dead: 0, unbatched: 0 };
    for (const r of rows) counts[r.state] = Number(r.count);
    const [unbatched] = await this.knex('notifications').whereNull('delivery_id').count<{ count: string }[]>('* as count');
    counts.unbatched = Number(unbatched?.count ?? 0);
    return counts;
  }

  async notificationsOf(deliveryId: string, page: { limit: number; after?: string }): Promise<OutboxNotification[]> {
    if (!UUID.test(deliveryId) || (page.after !== undefined && !UUID.test(page.after))) return [];
    const limit = Math.min(MAX_PAGE, Math.max(1, Math.floor(page.limit)));
    const query = this.knex('notifications as n')
      .join('notification_payloads as p', 'p.id', 'n.id')
      .where({ 'n.delivery_id': deliveryId })
      .whereExists((q) => q.select(1).from('manifests').whereRaw('manifests.id = n.manifest_id'));
    if (page.after !== undefined) {
      query.whereRaw('(n.created_at, n.id) > (select created_at, id from notifications where id = ?)', [page.after]);
    }
    const rows = await query
      .orderBy([{ column: 'n.created_at' }, { column: 'n.id' }])
      .limit(limit)
      .select<NotificationRow[]>('n.id', 'n.subscription_id', 'n.manifest_id', 'n.vuln_name', 'n.event', 'n.update_run_id', 'p.payload', 'n.created_at');
    return rows.map(fromNotificationRow);
  }

  async nextDueAt(): Promise<Date | null> {
    const { rows } = await this.knex.raw<{ rows: { at: Date | null }[] }>(
      `select min(next_attempt_at) as at from notification_deliveries where state in ('pending', 'delivering')`,
    );
    return rows[0]?.at ?? null;
  }

  async prune(before: Date): Promise<PruneSummary> {
    const summary: PruneSummary = { deliveries: 0, notifications: 0, findings: 0 };
    // A delivery's rows go in the statement that deletes it (the reference would otherwise set
    // them back to unbatched, and they would be sent again).
    for (;;) {
      const { rows } = await this.knex.raw<{ rows: { deliveries: string; notifications: string }[] }>(
        `with gone as (select id from notification_deliveries
                        where state in ('delivered', 'dead') and coalesce(delivered_at, last_attempt_at, created_at) < ?
                        limit ${MAX_PRUNED_PER_STATEMENT} for update skip locked),
              n as (delete from notifications where delivery_id in (select id from gone) returning 1),
              d as (delete from notification_deliveries where id in (select id from gone) returning 1)
         select (select count(*) from d) as deliveries, (select count(*) from n) as notifications`,
        [before],
      );
      const deliveries = Number(rows[0]?.deliveries ?? 0);
      summary.deliveries += deliveries;
      summary.notifications += Number(rows[0]?.notifications ?? 0);
      if (deliveries < MAX_PRUNED_PER_STATEMENT) break;
    }
    for (;;) {
      const result = await this.knex.raw(
        `delete from notifications where id in (
           select id from notifications where delivery_id is null and created_at < ? limit ${MAX_PRUNED_PER_STATEMENT * 50} for update skip locked)`,
        [before],
      );
      summary.notifications += result.rowCount as number;
      if ((result.rowCount as number) < MAX_PRUNED_PER_STATEMENT * 50) break;
    }
    const findings = await this.knex.raw(
      `delete from notification_findings f
        where f.occurred_at < ? and not exists (select 1 from notifications n where n.finding_id = f.id)`,
      [before],
    );
    summary.findings = findings.rowCount as number;
    return summary;
  }
}
