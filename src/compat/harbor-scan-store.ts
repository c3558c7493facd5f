import type { Knex } from 'knex';

/** Where a Harbor scan request is. `lost`: its process stopped before it ended (Harbor re-submits). */
export type HarborScanStatus = 'queued' | 'running' | 'done' | 'failed' | 'lost';

/** A scan request as stored (never with the registry authorization). */
export interface HarborScanRecord {
  id: string;
  registry: string;
  repository: string;
  digest: string;
  tag: string | null;
  mimeType: string | null;
  capabilities: unknown;
  status: HarborScanStatus;
  error: string | null;
  manifestId: number | null;
  createdAt: Date;
  heartbeatAt: Date;
  /** Seconds since the heartbeat, by the database clock. */
  silentSeconds: number;
}

/** A new scan request. */
export interface NewHarborScan {
  registry: string;
  repository: string;
  digest: string;
  tag: string | null;
  mimeType: string | null;
  capabilities: unknown;
}

/** Harbor scan requests: id → artifact, status, error, the image they produced. */
export interface HarborScanStore {
  /** Records a queued scan; returns its id (a UUID). */
  create(scan: NewHarborScan): Promise<string>;
  /** The scan `id`, or null (also for an id that is not a UUID). */
  get(id: string): Promise<HarborScanRecord | null>;
  /** Moves a scan on; `lost` only from queued or running (a scan that ended stays ended). */
  setStatus(id: string, status: HarborScanStatus, details?: { error?: string | null; manifestId?: number | null }): Promise<void>;
  /** Marks scans as still being worked on by a live process. */
  heartbeat(ids: readonly string[]): Promise<void>;
  /** The id of a configured registry's row, null when it has none. */
  registryId(name: string): Promise<number | null>;
  /** Deletes scan requests older than `days`; returns how many. */
  prune(days: number): Promise<number>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** {@link HarborScanStore} on PostgreSQL. */
export class PgHarborScanStore implements HarborScanStore {
  private readonly knex: Knex;

  constructor(knex: Knex) {
    this.knex = knex;
  }

  async create(scan: NewHarborScan): Promise<string> {
    const [row] = await this.knex('harbor_scans')
      .insert({
        registry: scan.registry,
        repository: scan.repository,
        digest: scan.digest,
        tag: scan.tag,
        mime_type: scan.mimeType,
        capabilities: JSON.stringify(scan.capabilities),
      })
      .returning<{ id: string }[]>('id');
    return row!.id;
  }

  async get(id: string): Promise<HarborScanRecord | null> {
    if (!UUID.test(id)) return null;
    const row = await this.knex('harbor_scans')
      .where({ id })
      .first('*', this.knex.raw('extract(epoch from now() - heartbeat_at)::float8 as silent_seconds'));
    if (!row) return null;
    return {
      id: row.id,
      registry: row.registry,
      repository: row.repository,
      digest: row.digest,
      tag: row.tag,
      mimeType: row.mime_type,
      capabilities: row.capabilities,
      status: row.status,
      error: row.error,
      manifestId: row.manifest_id === null ? null : Number(row.manifest_id),
      createdAt: row.created_at,
      heartbeatAt: row.heartbeat_at,
      silentSeconds: Number(row.silent_seconds),
    };
  }

  async setStatus(id: string, status: HarborScanStatus, details: { error?: string | null; manifestId?: number | null } = {}): Promise<void> {
    const values: Record<string, unknown> = { status, updated_at: this.knex.fn.now(), heartbeat_at: this.knex.fn.now() };
    if (details.error !== undefined) values.error = details.error === null ? null : details.error.slice(0, 4000);
    if (details.manifestId !== undefined) values.manifest_id = details.manifestId;
    if (status === 'done' || status === 'failed' || status === 'lost') values.finished_at = this.knex.fn.now();
    const query = this.knex('harbor_scans').where({ id });
    if (status === 'lost') query.whereIn('status', ['queued', 'running']);
    await query.update(values);
  }

  async heartbeat(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.knex('harbor_scans').whereIn('id', [...ids]).whereIn('status', ['queued', 'running']).update({ heartbeat_at: this.knex.fn.now() });
  }

  async registryId(name: string): Promise<number | null> {
    const row = await this.knex('registries').where({ name }).first('id');
    return row ? Number(row.id) : null;
  }

  async prune(days: number): Promise<number> {
    return this.knex('harbor_scans').whereRaw('created_at < now() - make_interval(days => ?)', [days]).delete();
  }
}
