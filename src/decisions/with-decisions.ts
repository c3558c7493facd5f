import type { Knex } from 'knex';
import type { AppliedHook } from '../store/vulnerability-store.ts';
import { exceptionCovers, normalizeId, vexCovers } from './apply-decisions.ts';
import type { DecisionSource } from './decision-set.ts';
import { markRunReportsStale } from './invalidate-reports.ts';

interface OutboxRow {
  id: string;
  manifest_id: string;
  payload: { image?: { digest?: string }; finding?: { vulnerability?: string; aliases?: string[]; package?: string; ecosystem?: string | null; installedVersion?: string } };
}

/**
 * Wraps a data-change hook (the change notifier's `onRunApplied`) so that the reports the run
 * dropped are marked stale instead of missing (see `markRunReportsStale`), and the outbox rows it
 * writes for findings an operator decision suppresses — a `not_affected`/`fixed` VEX statement
 * or a live exception covering that image, package and vulnerability — are removed again in the
 * same transaction, before anyone can deliver them: suppressed findings cause no notifications.
 * Returns the rows that remain.
 */
export function withDecisions(hook: AppliedHook, source: DecisionSource, now: () => Date = () => new Date()): AppliedHook {
  return async (trx, run) => {
    // The reports the run dropped get stale markers, so their status validators move on.
    await markRunReportsStale(trx, run);
    const written = (await hook(trx, run)) ?? 0;
    if (written === 0) return written;
    const dropped = await dropSuppressed(trx, run.runId, source, now());
    return written - dropped;
  };
}

async function dropSuppressed(trx: Knex.Transaction, runId: number, source: DecisionSource, now: Date): Promise<number> {
  const rows = (await trx('notifications').where({ update_run_id: runId }).whereNull('delivery_id').select('id', 'manifest_id', 'payload')) as OutboxRow[];
  if (rows.length === 0) return 0;
  const ids = new Set<string>();
  for (const r of rows) for (const id of [r.payload.finding?.vulnerability ?? '', ...(r.payload.finding?.aliases ?? [])]) if (id !== '') ids.add(normalizeId(id));
  const decisions = await source.forImage([...ids], now);
  if (decisions.vex.length === 0 && decisions.exceptions.length === 0) return 0;
  const closing = decisions.vex.filter((v) => v.status === 'not_affected' || v.status === 'fixed');
  if (closing.length === 0 && decisions.exceptions.length === 0) return 0;

  const repositories = new Map<number, string[]>();
  const packages = new Map<string, { ecosystem: string; name: string; version: string; sourceName: string | null; sourceVersion: string | null } | undefined>();
  const drop: string[] = [];
  for (const r of rows) {
    const f = r.payload.finding;
    const digest = r.payload.image?.digest;
    if (!f?.vulnerability || !f.package || digest === undefined) continue;
    const manifestId = Number(r.manifest_id);
    let repos = repositories.get(manifestId);
    if (repos === undefined) repositories.set(manifestId, (repos = await source.repositoriesOf(manifestId)));
    const key = `${manifestId}\u0000${f.package}\u0000${f.installedVersion ?? ''}`;
    if (!packages.has(key)) {
      const p = await trx('manifest_packages as mp')
        .join('packages as p', 'p.id', 'mp.package_id')
        .where({ 'mp.manifest_id': manifestId, 'p.name': f.package, 'p.version': f.installedVersion ?? '' })
        .first('p.ecosystem', 'p.name', 'p.version', 'p.source_name', 'p.source_version');
      packages.set(key, p ? { ecosystem: p.ecosystem, name: p.name, version: p.version, sourceName: p.source_name, sourceVersion: p.source_version } : undefined);
    }
    const pkg = packages.get(key) ?? { ecosystem: f.ecosystem ?? '', name: f.package, version: f.installedVersion ?? '', sourceName: null, sourceVersion: null };
    const findingIds = new Set([f.vulnerability, ...(f.aliases ?? [])].map(normalizeId));
    const image = { digest, repositories: repos, release: null };
    if (closing.some((v) => vexCovers(v, findingIds, pkg, image)) || decisions.exceptions.some((e) => exceptionCovers(e, findingIds, pkg, image, now))) drop.push(r.id);
  }
  if (drop.length === 0) return 0;
  return trx('notifications').whereIn('id', drop).delete();
}
