import type { Knex } from 'knex';

/**
 * A cached report's row replaced by a stale marker: generation -1 (which `ReportService.report`
 * takes as "make it again"), no report, and a validator never used before. A marker rather than a
 * deleted row, because the status API's validator covers the report's: with the row gone, two
 * successive invalidations would give the same validator (that of "no report") and a document
 * kept under it from the first would be served after the second.
 */
const STALE = `generation = -1, etag = '"stale-' || gen_random_uuid() || '"', report_zstd = ''::bytea, summary = null`;

/** Rows of the images holding a package some vulnerability record of the ids names (as its name or an alias). */
const MANIFESTS_OF_IDS = `
  select mp.manifest_id from vulnerabilities v
  join packages p on p.ecosystem = v.ecosystem and (p.name = v.package_name or p.source_name = v.package_name)
  join manifest_packages mp on mp.package_id = p.id
  where v.name = any(?::text[]) or v.aliases && ?::text[]`;

/**
 * Marks stale the cached reports that may hold a finding of one of `vulnerabilityIds`: those of
 * images holding a package (by name or source name, in the record's ecosystem) that a
 * vulnerability record names the ids of. Every finding comes from such a record, so no report
 * showing one of them stays current; the next read makes it again. Call it in the transaction
 * of the decision's change. Returns the reports marked.
 */
export async function invalidateReportsFor(db: Knex | Knex.Transaction, vulnerabilityIds: readonly string[]): Promise<number> {
  const ids = [...new Set(vulnerabilityIds)];
  if (ids.length === 0) return 0;
  const result = await db.raw(`update reports r set ${STALE} where r.generation >= 0 and r.manifest_id in (${MANIFESTS_OF_IDS})`, [ids, ids] as unknown as Knex.RawBinding[]);
  return result.rowCount as number;
}

/**
 * The image manifests (done, of kind image) that hold a package some vulnerability record of
 * `vulnerabilityIds` names, as in {@link invalidateReportsFor}: the images whose findings a
 * decision about those vulnerabilities may change.
 */
export async function manifestsFor(db: Knex | Knex.Transaction, vulnerabilityIds: readonly string[]): Promise<Array<{ id: number; digest: string }>> {
  const ids = [...new Set(vulnerabilityIds)];
  if (ids.length === 0) return [];
  const { rows } = await db.raw<{ rows: { id: string; digest: string }[] }>(
    `select m.id, m.digest from manifests m where m.kind = 'image' and m.status = 'done' and m.id in (${MANIFESTS_OF_IDS}) order by m.id`,
    [ids, ids] as unknown as Knex.RawBinding[],
  );
  return rows.map((r) => ({ id: Number(r.id), digest: r.digest }));
}
