import pg from 'pg';
import type { Logger } from '../log/create-logger.ts';

/** The notification channel the status triggers send on (see the status_notify migration). */
export const STATUS_CHANNEL = 'lookout_status';

/** Manifest ids whose status may have changed, or `all`. */
export type StatusChange = ReadonlySet<number> | 'all';

/**
 * Tells an in-process cache which manifests changed in the database. While `healthy` is false
 * (not yet listening, or the connection was lost) nothing may be served from such a cache: a
 * change could have been missed. `epoch` grows with every change (and every loss), so a reader
 * can tell whether anything changed while its query ran.
 */
export interface StatusChanges {
  readonly healthy: boolean;
  readonly epoch: number;
  onChange(listener: (change: StatusChange) => void): void;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * {@link StatusChanges} from PostgreSQL `LISTEN lookout_status` on a dedicated connection,
 * reconnecting with backoff when it drops (every cached entry is dropped then).
 */
export class PgStatusChangeListener implements StatusChanges {
  private readonly url: string;
  private readonly logger: Logger;
  private readonly listeners: Array<(change: StatusChange) => void> = [];
  private client: pg.Client | null = null;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private backoffMs = 500;
  healthy = false;
  epoch = 0;

  constructor(options: { databaseUrl: string; logger: Logger }) {
    this.url = options.databaseUrl;
    this.logger = options.logger;
  }

  onChange(listener: (change: StatusChange) => void): void {
    this.listeners.push(listener);
  }

  /** Connects and listens; resolves once listening (or after the first failure, retrying in the background). */
  async start(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url, application_name: 'lookout-status-listener' });
    client.on('notification', (msg) => {
      if (msg.channel !== STATUS_CHANNEL) return;
      this.emit(parsePayload(msg.payload ?? '*'));
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, null));
    try {
      await client.connect();
      await client.query(`listen ${STATUS_CHANNEL}`);
      if (this.closed) {
        await client.end();
        return;
      }
      this.client = client;
      this.backoffMs = 500;
      // Anything may have changed while nobody listened.
      this.emit('all');
      this.healthy = true;
      this.logger.debug({}, 'status listener listening');
    } catch (err) {
      this.lost(client, err as Error);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.healthy = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => undefined);
  }

  private lost(client: pg.Client, err: Error | null): void {
    if (this.client !== null && this.client !== client) return;
    const wasHealthy = this.healthy;
    this.healthy = false;
    this.client = null;
    this.emit('all');
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    if (this.closed || this.retryTimer) return;
    if (wasHealthy || err) this.logger.warn({ err: err ? { message: err.message } : null, retryInMs: this.backoffMs }, 'status listener lost');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.start();
    }, this.backoffMs);
    this.retryTimer.unref();
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
  }

  private emit(change: StatusChange): void {
    this.epoch++;
    for (const listener of this.listeners) listener(change);
  }
}

function parsePayload(payload: string): StatusChange {
  if (payload === '*' || payload === '') return 'all';
  const ids = new Set<number>();
  for (const part of payload.split(',')) {
    const id = Number(part);
    if (!Number.isSafeInteger(id)) return 'all';
    ids.add(id);
  }
  return ids;
}
