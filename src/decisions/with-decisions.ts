import type { Knex } from 'knex';
import type { AppliedHook } from '../store/vulnerability-store.ts';
import { decisionIndex, exceptionCovers, normalizeId, vexCovers } from './apply-decisions.ts';
import type { DecisionSource } from './decision-set.ts';
import { imageRepositoriesSql } from './pg-decision-source.ts';

/** An outbox row of the run whose finding a decision names, with what deciding needs. */
interface OutboxRow {
  id: string;
  digest: string;
  /** The repositories the image is known under (its own and those of indexes holding it). */
  repositories: string[];
  vuln_name: string;
  aliases: string[];
  package_name: string;
  installed_version: string;
  ecosystem: string | null;
  /** The image's package of that name and version, when it still holds one. */
  package_ecosystem: string | null;
  source_name: string | null;
  source_version: string | null;
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
  // One statement reads every such row with its image's repositories and package (each image's
  // repositories once), however many images the run reached.
  const upper = named.map((n) => n.toUpperCase());
  const { rows } = await trx.raw<{ rows: OutboxRow[] }>(
    `with hit as (
       select n.id, n.manifest_id, f.vuln_name, f.aliases, f.package_name, f.installed_version, f.ecosystem
         from notifications n
         join notification_findings f on f.id = n.finding_id
        where n.update_run_id = ? and n.delivery_id is null
          and (upper(f.vuln_name) = any(?::text[]) or exists (select 1 from unnest(f.aliases) a where upper(a) = any(?::text[])))
     ), images as (
       select i.manifest_id, m.digest, ${imageRepositoriesSql('i.manifest_id')} as repositories
         from (select distinct manifest_id from hit) i join manifests m on m.id = i.manifest_id
     )
     select h.id, i.digest, i.repositories, h.vuln_name, h.aliases, h.package_name, h.installed_version, h.ecosystem,
            p.ecosystem as package_ecosystem, p.source_name, p.source_version
       from hit h
       join images i on i.manifest_id = h.manifest_id
       left join lateral (select p.ecosystem, p.source_name, p.source_version
                            from manifest_packages mp join packages p on p.id = mp.package_id
                           where mp.manifest_id = h.manifest_id and p.name = h.package_name and p.version = h.installed_version
                           limit 1) p on true`,
    [runId, upper, upper],
  );

  const naming = decisionIndex({ vex: closing, exceptions: decisions.exceptions });
  const drop: string[] = [];
  for (const r of rows) {
    const pkg = {
      ecosystem: r.package_ecosystem ?? r.ecosystem ?? '',
      name: r.package_name,
      version: r.installed_version,
      sourceName: r.package_ecosystem === null ? null : r.source_name,
      sourceVersion: r.package_ecosystem === null ? null : r.source_version,
    };
    const findingIds = new Set([r.vuln_name, ...r.aliases].map(normalizeId));
    const image = { digest: r.digest, repositories: r.repositories, release: null };
    if (naming.vex(findingIds).some((v) => vexCovers(v, findingIds, pkg, image)) || naming.exceptions(findingIds).some((e) => exceptionCovers(e, findingIds, pkg, image, now))) {
      drop.push(r.id);
    }
  }
  if (drop.length === 0) return 0;
  const result = await trx.raw('delete from notifications where id = any(?::uuid[])', [drop]);
  return result.rowCount as number;
}
