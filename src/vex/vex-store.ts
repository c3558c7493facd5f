import type { Knex } from 'knex';
import type { DecisionScope } from '../decisions/decision-set.ts';
import { invalidateReportsFor } from '../decisions/invalidate-reports.ts';
import { scopeOf } from '../decisions/pg-decision-source.ts';
import type { VexStatus } from '../matcher/finding.ts';
import type { ParsedVexDocument, ParsedVexStatement, VexFormat } from './parsed-vex.ts';

/** An imported VEX document as stored (its statements apart). */
export interface StoredVexDocument {
  id: string;
  format: VexFormat;
  documentId: string | null;
  version: string | null;
  author: string | null;
  issuedAt: string | null;
  scope: DecisionScope;
  sha256: string;
  statementCount: number;
  importedBy: string | null;
  importedAt: string;
}

/** One stored statement: a parsed one with its row id. */
export interface StoredVexStatement extends ParsedVexStatement {
  id: number;
}

/** What an import did. */
export interface VexImportOutcome {
  document: StoredVexDocument;
  /** The id of the earlier import of the same document (same format, document id and scope) it replaced. */
  replaced: string | null;
  /** Cached reports dropped because they may show a finding the document speaks of. */
  reportsInvalidated: number;
}

/**
 * Imported VEX documents and their statements. An import is one transaction: the document, all
 * its statements, the removal of an earlier import of the same document (same format, document
 * id — or content hash without one — and scope), and the removal of the cached reports that may
 * show a finding of the vulnerabilities either speaks of; a failure changes nothing.
 */
export interface VexStore {
  importDocument(doc: ParsedVexDocument, meta: { scope: DecisionScope; sha256: string; importedBy: string | null }): Promise<VexImportOutcome>;
  list(options: { limit: number; before?: number }): Promise<StoredVexDocument[]>;
  get(id: string): Promise<{ document: StoredVexDocument; statements: StoredVexStatement[] } | null>;
  /** Deletes a document and its statements (and the cached reports they touched); false when unknown. */
  delete(id: string): Promise<boolean>;
}

const BATCH = 1000;

function scopeColumns(scope: DecisionScope): { scope_kind: string; scope_value: string | null } {
  if (scope.kind === 'image') return { scope_kind: 'image', scope_value: scope.digest };
  if (scope.kind === 'repository') return { scope_kind: 'repository', scope_value: scope.pattern };
  return { scope_kind: 'global', scope_value: null };
}

function toDocument(r: Record<string, any>): StoredVexDocument {
  return {
    id: String(r.id),
    format: r.format,
    documentId: r.document_id,
    version: r.document_version,
    author: r.author,
    issuedAt: r.issued_at ? new Date(r.issued_at).toISOString() : null,
    scope: scopeOf(r.scope_kind, r.scope_value),
    sha256: r.sha256,
    statementCount: Number(r.statement_count),
    importedBy: r.imported_by,
    importedAt: new Date(r.imported_at).toISOString(),
  };
}

async function vulnerabilitiesOf(db: Knex | Knex.Transaction, documentId: string | number): Promise<string[]> {
  const { rows } = await db.raw<{ rows: { id: string }[] }>(
    `select distinct x.id from (select vulnerability as id from vex_statements where document_id = ? union all select unnest(aliases) from vex_statements where document_id = ?) x`,
    [documentId, documentId],
  );
  return rows.map((r) => r.id);
}

/** {@link VexStore} on PostgreSQL. */
export class PgVexStore implements VexStore {
  private readonly knex: Knex;

  constructor(knex: Knex) {
    this.knex = knex;
  }

  async importDocument(doc: ParsedVexDocument, meta: { scope: DecisionScope; sha256: string; importedBy: string | null }): Promise<VexImportOutcome> {
    const scope = scopeColumns(meta.scope);
    return this.knex.transaction(async (trx) => {
      // Serializes imports of one document identity, so two at once cannot both keep theirs.
      await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`vex:${doc.format}:${doc.documentId ?? meta.sha256}:${scope.scope_kind}:${scope.scope_value ?? ''}`]);
      const earlier = await trx('vex_documents')
        .where({ format: doc.format, scope_kind: scope.scope_kind })
        .whereRaw('coalesce(document_id, sha256) = ?', [doc.documentId ?? meta.sha256])
        .whereRaw(`coalesce(scope_value, '') = ?`, [scope.scope_value ?? ''])
        .first('id');
      const touched = new Set<string>();
      if (earlier) {
        for (const id of await vulnerabilitiesOf(trx, earlier.id)) touched.add(id);
        await trx('vex_documents').where({ id: earlier.id }).delete();
      }
      const [row] = await trx('vex_documents')
        .insert({
          format: doc.format,
          document_id: doc.documentId,
          document_version: doc.version,
          author: doc.author,
          issued_at: doc.issuedAt,
          ...scope,
          sha256: meta.sha256,
          statement_count: doc.statements.length,
          imported_by: meta.importedBy,
        })
        .returning('*');
      for (let i = 0; i < doc.statements.length; i += BATCH) {
        const batch = doc.statements.slice(i, i + BATCH);
        await trx('vex_statements').insert(batch.map((s: ParsedVexStatement) => ({
          document_id: row.id,
          position: s.position,
          vulnerability: s.vulnerability,
          aliases: s.aliases,
          status: s.status,
          justification: s.justification,
          impact_statement: s.impactStatement,
          action_statement: s.actionStatement,
          image_digest: s.imageDigest,
          package_purl: s.packagePurl,
        })));
        for (const s of batch) {
          touched.add(s.vulnerability);
          for (const a of s.aliases) touched.add(a);
        }
      }
      const reportsInvalidated = await invalidateReportsFor(trx, [...touched]);
      return { document: toDocument(row), replaced: earlier ? String(earlier.id) : null, reportsInvalidated };
    });
  }

  async list(options: { limit: number; before?: number }): Promise<StoredVexDocument[]> {
    const query = this.knex('vex_documents').orderBy('id', 'desc').limit(options.limit);
    if (options.before !== undefined) query.where('id', '<', options.before);
    return (await query).map(toDocument);
  }

  async get(id: string): Promise<{ document: StoredVexDocument; statements: StoredVexStatement[] } | null> {
    if (!/^\d{1,18}$/.test(id)) return null;
    const row = await this.knex('vex_documents').where({ id }).first();
    if (!row) return null;
    const statements = await this.knex('vex_statements').where({ document_id: id }).orderBy('id');
    return {
      document: toDocument(row),
      statements: statements.map((s) => ({
        id: Number(s.id),
        position: s.position,
        vulnerability: s.vulnerability,
        aliases: s.aliases ?? [],
        status: s.status,
        justification: s.justification,
        impactStatement: s.impact_statement,
        actionStatement: s.action_statement,
        imageDigest: s.image_digest,
        packagePurl: s.package_purl,
      })),
    };
  }

  async delete(id: string): Promise<boolean> {
    if (!/^\d{1,18}$/.test(id)) return false;
    return this.knex.transaction(async (trx) => {
      const row = await trx('vex_documents').where({ id }).forUpdate().first('id');
      if (!row) return false;
      const touched = await vulnerabilitiesOf(trx, id);
      await trx('vex_documents').where({ id }).delete();
      await invalidateReportsFor(trx, touched);
      return true;
    });
  }
}
