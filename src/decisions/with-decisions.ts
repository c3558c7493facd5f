import type { Knex } from 'knex';
import type { AppliedHook } from '../store/vulnerability-store.ts';
import { exceptionCovers, normalizeId, vexCovers } from './apply-decisions.ts';
import type { DecisionSource } from './decision-set.ts';

interface OutboxRow {
  id: string;
  manifest_id: string;
  digest: string;
  vuln_name: string;
  aliases: string[];
  package_name: string;
  installed_version: string;
  ecosystem: string | null;
}

/**
 * Wraps a data-change hook (the change notifier's `onRunApplied`) so that the outbox rows it
 * writes for findings an operator decision suppresses — a `not_affected`/`fixed` VEX statement
 * or a live exception covering that image, package and vulnerability — are removed again in the
 * same transaction, before anyone can deliver them: suppressed findings cause no notifications.
 * Returns the rows that remain.
 */
export function withDecisions(hook: AppliedHook, source: DecisionSource, now: () => Date = () => new Date()): AppliedHook {
  return async (trx, run) => {
    const written = (await hook(trx, run)) ?? 0;
    if (written === 0) return written;
    const dropped = await dropSuppressed(trx, run.runId, source, now());
    return written - dropped;
  };
}

async function dropSuppressed(trx: Knex.Transaction, runId: number, source: DecisionSource, now: Date): Promise<number> {
  // Only a closing VEX statement or a live exception can suppress anything (usually there is none).
  const { rows: any } = await trx.raw<{ rows: { found: boolean }[] }>(
    `select exists (select 1 from vex_statements where status in ('not_affected', 'fixed'))
         or exists (select 1 from exceptions where deleted_at is null and expires_at > ?) as found`,
    [now],
  );
  if (!any[0]?.found) return 0;
  // The run's findings (few: one per package change) decide which decisions matter, then only the
  // rows of findings such a decision names are read.
  const findings = await trx('notification_findings').where({ update_run_id: runId }).select('vuln_name', 'aliases');
  const ids = new Set<string>();
  for (const f of findings as { vuln_name: string; aliases: string[] }[]) for (const id of [f.vuln_name, ...f.aliases]) ids.add(normalizeId(id));
  if (ids.size === 0) return 0;
  const decisions = await source.forImage([...ids], now);
  const closing = decisions.vex.filter((v) => v.status === 'not_affected' || v.status === 'fixed');
  if (closing.length === 0 && decisions.exceptions.length === 0) return 0;
  const named = [...new Set([...closing.flatMap((v) => [v.vulnerability, ...v.aliases]), ...decisions.exceptions.map((e) => e.vulnerability)].map(normalizeId))];
  const { rows } = await trx.raw<{ rows: OutboxRow[] }>(
    `select n.id, n.manifest_id, m.digest, f.vuln_name, f.aliases, f.package_name, f.installed_version, f.ecosystem
       from notifications n
       join notification_findings f on f.id = n.finding_id
       join manifests m on m.id = n.manifest_id
      where n.update_run_id = ? and n.delivery_id is null
        and (upper(f.vuln_name) = any(?::text[]) or exists (select 1 from unnest(f.aliases) a where upper(a) = any(?::text[])))`,
    [runId, named.map((n) => n.toUpperCase()), named.map((n) => n.toUpperCase())],
  );

  const repositories = new Map<number, string[]>();
  const packages = new Map<string, { ecosystem: string; name: string; version: string; sourceName: string | null; sourceVersion: string | null } | undefined>();
  const drop: string[] = [];
  for (const r of rows) {
    const manifestId = Number(r.manifest_id);
    let repos = repositories.get(manifestId);
    if (repos === undefined) repositories.set(manifestId, (repos = await source.repositoriesOf(manifestId)));
    const key = `${manifestId}\u0000${r.package_name}\u0000${r.installed_version}`;
    if (!packages.has(key)) {
      const p = await trx('manifest_packages as mp')
        .join('packages as p', 'p.id', 'mp.package_id')
        .where({ 'mp.manifest_id': manifestId, 'p.name': r.package_name, 'p.version': r.installed_version })
        .first('p.ecosystem', 'p.name', 'p.version', 'p.source_name', 'p.source_version');
      packages.set(key, p ? { ecosystem: p.ecosystem, name: p.name, version: p.version, sourceName: p.source_name, sourceVersion: p.source_version } : undefined);
    }
    const pkg = packages.get(key) ?? { ecosystem: r.ecosystem ?? '', name: r.package_name, version: r.installed_version, sourceName: null, sourceVersion: null };
    const findingIds = new Set([r.vuln_name, ...r.aliases].map(normalizeId));
    const image = { digest: r.digest, repositories: repos, release: null };
    if (closing.some((v) => vexCovers(v, findingIds, pkg, image)) || decisions.exceptions.some((e) => exceptionCovers(e, findingIds, pkg, image, now))) drop.push(r.id);
  }
  if (drop.length === 0) return 0;
  return trx('notifications').whereIn('id', drop).delete();
}
