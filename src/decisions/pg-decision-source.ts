import type { Knex } from 'knex';
import type { VexStatus } from '../matcher/finding.ts';
import type { DecisionScope, DecisionSet, DecisionSource, ExceptionDecision, VexDecision } from './decision-set.ts';

/** A `vex_documents` scope as a {@link DecisionScope}. */
export function scopeOf(kind: string, value: string | null): DecisionScope {
  if (kind === 'image' && value !== null) return { kind: 'image', digest: value };
  if (kind === 'repository' && value !== null) return { kind: 'repository', pattern: value };
  return { kind: 'global' };
}

/**
 * SQL for the names of the repositories an image is known under, as `repositoriesOf` gives them:
 * those it is in and those of the indexes holding it (memberships not deleted), once each, in
 * byte order, as a `text[]`. `manifestId` is an SQL expression for the image's id (a column).
 */
export function imageRepositoriesSql(manifestId: string): string {
  return `array(select distinct r.name collate "C"
                  from repository_manifests rm join repositories r on r.id = rm.repository_id
                 where rm.deleted_at is null
                   and (rm.manifest_id = ${manifestId} or rm.manifest_id in (select c.index_id from manifest_children c where c.child_id = ${manifestId}))
                 order by 1)`;
}

/** Most decision rows read for one image (a report never needs more; a document with more is unusual). */
const MAX_ROWS = 50_000;

/** {@link DecisionSource} on PostgreSQL: `vex_statements` by vulnerability id or alias, live `exceptions` by vulnerability id. */
export class PgDecisionSource implements DecisionSource {
  private readonly knex: Knex;

  constructor(knex: Knex) {
    this.knex = knex;
  }

  async repositoriesOf(manifestId: number): Promise<string[]> {
    const rows = await this.knex('repository_manifests as rm')
      .join('repositories as r', 'r.id', 'rm.repository_id')
      .whereNull('rm.deleted_at')
      .where((q) => q.where('rm.manifest_id', manifestId).orWhereIn('rm.manifest_id', this.knex('manifest_children').where('child_id', manifestId).select('index_id')))
      .distinct('r.name');
    return rows.map((r) => r.name as string).sort();
  }

  async forImage(vulnerabilityIds: readonly string[], now: Date): Promise<DecisionSet> {
    const ids = [...new Set(vulnerabilityIds)];
    if (ids.length === 0) return { vex: [], exceptions: [] };
    const [statements, exceptions] = await Promise.all([
      this.knex('vex_statements as s')
        .join('vex_documents as d', 'd.id', 's.document_id')
        .where((q) => q.whereRaw('s.vulnerability = any(?)', [ids]).orWhereRaw('s.aliases && ?::text[]', [ids]))
        .limit(MAX_ROWS)
        .select('s.id', 's.document_id', 's.vulnerability', 's.aliases', 's.status', 's.justification', 's.impact_statement', 's.action_statement', 's.image_digest', 's.package_purl', 'd.format', 'd.author', 'd.imported_at', 'd.scope_kind', 'd.scope_value'),
      this.knex('exceptions').whereNull('deleted_at').where('expires_at', '>', now).whereRaw('vulnerability = any(?)', [ids]).select('*'),
    ]);
    return {
      vex: statements.map(
        (r): VexDecision => ({
          id: Number(r.id),
          documentId: String(r.document_id),
          format: r.format,
          author: r.author,
          importedAt: new Date(r.imported_at).toISOString(),
          scope: scopeOf(r.scope_kind, r.scope_value),
          vulnerability: r.vulnerability,
          aliases: r.aliases ?? [],
          status: r.status as VexStatus,
          justification: r.justification,
          impactStatement: r.impact_statement,
          actionStatement: r.action_statement,
          imageDigest: r.image_digest,
          packagePurl: r.package_purl,
        }),
      ),
      exceptions: exceptions.map(toExceptionDecision),
    };
  }
}

/** An `exceptions` row as an {@link ExceptionDecision}. */
export function toExceptionDecision(r: Record<string, any>): ExceptionDecision {
  return {
    id: String(r.id),
    vulnerability: r.vulnerability,
    packageName: r.package_name,
    repositoryPattern: r.repository_pattern,
    imageDigest: r.image_digest,
    reason: r.reason,
    author: r.author,
    expiresAt: new Date(r.expires_at).toISOString(),
  };
}
