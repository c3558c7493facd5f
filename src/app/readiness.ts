import type { SystemStore } from '../store/system-store.ts';

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; error?: string }>;
}

/**
 * Whether this process can serve: the database answers, every migration in `migrations/` is
 * applied, the job schema exists, and the process is not shutting down.
 */
export class Readiness {
  private readonly store: SystemStore;
  private readonly expectedMigrations: readonly string[];
  private shuttingDown = false;

  constructor(store: SystemStore, expectedMigrations: readonly string[]) {
    this.store = store;
    this.expectedMigrations = expectedMigrations;
  }

  /** From now on the process reports not ready, so load balancers stop sending it work. */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  async report(): Promise<ReadinessReport> {
    const checks: ReadinessReport['checks'] = {};
    checks.process = this.shuttingDown ? { ok: false, error: 'shutting down' } : { ok: true };
    try {
      await this.store.ping(2000);
      checks.database = { ok: true };
    } catch (err) {
      checks.database = { ok: false, error: describe(err) };
    }
    if (checks.database.ok) {
      try {
        const applied = new Set(await this.store.appliedMigrations());
        const pending = this.expectedMigrations.filter((name) => !applied.has(name));
        checks.migrations = pending.length === 0 ? { ok: true } : { ok: false, error: `pending: ${pending.join(', ')}` };
        checks.jobs = (await this.store.jobSchemaInstalled()) ? { ok: true } : { ok: false, error: 'job schema not installed' };
      } catch (err) {
        checks.migrations = { ok: false, error: describe(err) };
      }
    }
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  }
}

function describe(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  return typeof code === 'string' ? `${code}: ${message}` : message;
}
