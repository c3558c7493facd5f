import { ConflictError, NotFoundError, BadRequestError, AppError } from '../errors/app-error.ts';
import type { VulnerabilityRecord } from '../ecosystems/vulnerability-record.ts';
import type { Logger } from '../log/create-logger.ts';
import { withAdvisoryLock } from '../store/advisory-lock.ts';
import type { AppliedHook, RunCounts, VulnerabilityStore } from '../store/vulnerability-store.ts';
import { VexDocumentError } from '../vex/vex-document-error.ts';
import { checkAdvisory, CUSTOM_UPDATER, type AdvisoryDocument } from './advisory-document.ts';
import type { AdvisoryChange, AdvisoryImportCounts, AdvisoryOrigin, AdvisoryStore, StoredAdvisory } from './advisory-store.ts';
import { osvAdvisory } from './osv-advisory.ts';

/** An advisory as the API and the CLI show it. */
export interface AdvisoryView extends AdvisoryDocument {
  revision: number;
  state: 'active' | 'withdrawn';
  origin: AdvisoryOrigin;
  createdAt: string;
  createdBy: string | null;
  updatedAt: string;
  updatedBy: string | null;
  withdrawnAt: string | null;
  withdrawnBy: string | null;
}

/** What applying the advisories to the vulnerability data did. */
export type MaterializeOutcome = { state: 'unchanged' } | { state: 'changed'; runId: number; counts: RunCounts };

/** What {@link AdvisoryService} needs. */
export interface AdvisoryServiceDeps {
  store: AdvisoryStore;
  vulnerabilities: VulnerabilityStore;
  /** The data-change hook (notifications), run inside each run's transaction. */
  onApplied: AppliedHook;
  /** For the lock that keeps two processes from applying at once. */
  databaseUrl: string;
  logger: Logger;
  /** Most active advisories. */
  maxAdvisories: number;
  /** Called after a run wrote outbox rows (wakes an in-process deliverer). */
  onNotified?: () => void;
  now?: () => Date;
}

/** One OSV document of an import: where it came from (file name) and its parsed JSON. */
export interface OsvInput {
  name: string;
  value: unknown;
}

const LOCK = 'lookout:custom-advisories';

/**
 * The operator's own advisories. Each is checked whole (see `checkAdvisory`), stored in
 * `custom_advisories`, and then the whole set is applied to the vulnerability data as a run of
 * the `custom` updater: the same diff → affected images → notifications path a feed update takes
 * (`newly-affected` when one is added, `resolved` when one is withdrawn), the same report
 * invalidation, findings whose `source.updater` is `custom`. Applying is serialized across
 * processes and idempotent (skipped when the set's fingerprint is that of the last run); a write
 * whose application failed is applied by the next {@link sync}.
 */
export class AdvisoryService {
  private readonly deps: AdvisoryServiceDeps;
  private readonly now: () => Date;

  constructor(deps: AdvisoryServiceDeps) {
    this.deps = deps;
    this.now = deps.now ?? (() => new Date());
  }

  /** Adds an advisory (409 when the id exists, even withdrawn: change it with {@link replace}). */
  async add(body: unknown, by: string | null, origin: AdvisoryOrigin): Promise<{ advisory: AdvisoryView; applied: MaterializeOutcome }> {
    const doc = checkAdvisory(body);
    await this.assertRoom(1);
    const stored = await this.deps.store.create(doc, origin, by);
    if (!stored) throw new ConflictError(`advisory ${doc.id} exists; change it with PUT /api/v1/advisories/${doc.id}`, { code: 'advisory_exists' });
    this.deps.logger.info({ id: doc.id, by, origin }, 'advisory added');
    return { advisory: view(stored), applied: await this.sync() };
  }

  /** Replaces an advisory (reinstating a withdrawn one); the body's id must be `id`. */
  async replace(id: string, body: unknown, by: string | null, origin: AdvisoryOrigin): Promise<{ advisory: AdvisoryView; applied: MaterializeOutcome }> {
    const doc = checkAdvisory(body);
    if (doc.id !== id) throw new BadRequestError(`invalid advisory: id: ${doc.id} is not ${id}`, { code: 'invalid_advisory' });
    const existing = await this.deps.store.get(id);
    if (!existing) throw new NotFoundError(`advisory ${id} is not known`);
    if (existing.withdrawnAt !== null) await this.assertRoom(1);
    const stored = await this.deps.store.replace(doc, origin, by);
    if (!stored) throw new NotFoundError(`advisory ${id} is not known`);
    this.deps.logger.info({ id, by, origin, revision: stored.revision }, 'advisory changed');
    return { advisory: view(stored), applied: await this.sync() };
  }

  /** Withdraws an active advisory: its findings go away (`resolved`). */
  async withdraw(id: string, by: string | null): Promise<{ advisory: AdvisoryView; applied: MaterializeOutcome }> {
    const stored = await this.deps.store.withdraw(id, by);
    if (!stored) throw new NotFoundError(`advisory ${id} is not known or already withdrawn`);
    this.deps.logger.info({ id, by }, 'advisory withdrawn');
    return { advisory: view(stored), applied: await this.sync() };
  }

  async get(id: string): Promise<AdvisoryView> {
    const stored = await this.deps.store.get(id);
    if (!stored) throw new NotFoundError(`advisory ${id.slice(0, 128)} is not known`);
    return view(stored);
  }

  async list(options: { includeWithdrawn?: boolean; limit?: number; after?: string } = {}): Promise<{ items: AdvisoryView[]; next: string | null }> {
    const limit = Math.min(500, Math.max(1, options.limit ?? 100));
    const items = await this.deps.store.list({ includeWithdrawn: options.includeWithdrawn === true, limit, ...(options.after !== undefined ? { after: options.after } : {}) });
    return { items: items.map(view), next: items.length === limit ? items[items.length - 1]!.id : null };
  }

  /**
   * Imports OSV records: every one is converted and checked first (a problem names the document
   * and where in it), then all are stored in one transaction (withdrawn records withdraw the
   * advisory of that id), then applied once. Nothing is stored when any document is bad.
   */
  async importOsv(inputs: readonly OsvInput[], by: string | null, origin: AdvisoryOrigin = 'osv'): Promise<{ counts: AdvisoryImportCounts; applied: MaterializeOutcome }> {
    const changes: AdvisoryChange[] = [];
    const seen = new Set<string>();
    const now = this.now();
    for (const input of inputs) {
      try {
        const osv = osvAdvisory(input.value, now);
        const id = osv.kind === 'withdrawn' ? osv.id : String(osv.input.id);
        if (seen.has(id)) throw new BadRequestError(`advisory ${id} is in more than one document`, { code: 'invalid_advisory' });
        seen.add(id);
        changes.push(osv.kind === 'withdrawn' ? { kind: 'withdraw', id: osv.id } : { kind: 'put', advisory: checkAdvisory(osv.input) });
      } catch (err) {
        if (err instanceof VexDocumentError) throw new VexDocumentError(`${input.name}: ${err.message}`, null, { code: 'invalid_advisory' });
        if (err instanceof AppError && err.status === 400) throw new BadRequestError(`${input.name}: ${err.message}`, { code: err.code });
        throw err;
      }
    }
    const active = await this.deps.store.countActive();
    const fresh = [];
    for (const c of changes) if (c.kind === 'put' && !(await this.deps.store.get(c.advisory.id))) fresh.push(c);
    if (active + fresh.length > this.deps.maxAdvisories) throw new ConflictError(`at most ${this.deps.maxAdvisories} active advisories (advisories.maxAdvisories)`, { code: 'too_many_advisories' });
    const counts = await this.deps.store.apply(changes, origin, by);
    this.deps.logger.info({ documents: inputs.length, ...counts, by }, 'advisories imported');
    return { counts, applied: await this.sync() };
  }

  /**
   * Applies the active advisories to the vulnerability data (a `custom` run) unless the last run
   * already did. The first ever run is preceded by an empty baseline run, so that the first
   * advisory is a change (with its diff and notifications) rather than an initial load.
   */
  async sync(): Promise<MaterializeOutcome> {
    const result = await withAdvisoryLock(this.deps.databaseUrl, LOCK, { wait: true }, async () => {
      const fingerprint = await this.deps.store.fingerprint();
      const last = await this.deps.vulnerabilities.lastSuccessfulRun(CUSTOM_UPDATER);
      if (last?.fingerprint === fingerprint) return { state: 'unchanged' } as const;
      if (last === null) {
        // Never applied and nothing to apply: leave the vulnerability data alone.
        if ((await this.deps.store.countActive()) === 0) return { state: 'unchanged' } as const;
        await this.run(empty(), 'baseline');
      }
      const { runId, counts } = await this.run(this.deps.store.records(), fingerprint);
      return { state: 'changed', runId, counts } as const;
    });
    if (!result.locked) throw new Error('advisory lock not taken');
    const outcome = result.value;
    if (outcome.state === 'changed') {
      this.deps.logger.info({ runId: outcome.runId, ...outcome.counts }, 'advisories applied');
      if (outcome.counts.notifications > 0) this.deps.onNotified?.();
    }
    return outcome;
  }

  private async run(records: AsyncIterable<VulnerabilityRecord>, fingerprint: string): Promise<{ runId: number; counts: RunCounts }> {
    const runId = await this.deps.vulnerabilities.startRun(CUSTOM_UPDATER);
    try {
      const counts = await this.deps.vulnerabilities.applyRun(runId, CUSTOM_UPDATER, records, { onApplied: this.deps.onApplied });
      await this.deps.vulnerabilities.finishRun(runId, { state: 'changed', fingerprint, counts });
      return { runId, counts };
    } catch (err) {
      await this.deps.vulnerabilities.finishRun(runId, { state: 'failed', error: (err as Error).message.slice(0, 500) }).catch(() => undefined);
      throw err;
    }
  }

  private async assertRoom(more: number): Promise<void> {
    if ((await this.deps.store.countActive()) + more > this.deps.maxAdvisories) {
      throw new ConflictError(`at most ${this.deps.maxAdvisories} active advisories (advisories.maxAdvisories)`, { code: 'too_many_advisories' });
    }
  }
}

async function* empty(): AsyncIterable<never> {
  // nothing: the baseline run
}

function view(s: StoredAdvisory): AdvisoryView {
  return {
    ...s.advisory,
    revision: s.revision,
    state: s.withdrawnAt === null ? 'active' : 'withdrawn',
    origin: s.origin,
    createdAt: s.createdAt,
    createdBy: s.createdBy,
    updatedAt: s.updatedAt,
    updatedBy: s.updatedBy,
    withdrawnAt: s.withdrawnAt,
    withdrawnBy: s.withdrawnBy,
  };
}
