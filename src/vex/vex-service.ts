import { createHash } from 'node:crypto';
import picomatch from 'picomatch';
import type { DecisionScope } from '../decisions/decision-set.ts';
import { BadRequestError, NotFoundError } from '../errors/app-error.ts';
import type { Logger } from '../log/create-logger.ts';
import { isDigest } from '../oci/digest.ts';
import { parseVexDocument, type VexDocumentLimits } from './parse-vex-document.ts';
import type { SkippedStatement, VexFormat } from './parsed-vex.ts';
import type { StoredVexDocument, StoredVexStatement, VexStore } from './vex-store.ts';

/** Where an import applies, as the caller asks: one image, repositories matching a glob, or everywhere. */
export interface VexScopeRequest {
  image?: string;
  repository?: string;
}

/** What an import answers. */
export interface VexImportResult {
  document: StoredVexDocument;
  replaced: string | null;
  /** Products the document names that Lookout cannot match (first 50), with why. */
  skipped: SkippedStatement[];
  skippedCount: number;
  reportsInvalidated: number;
}

const MAX_SKIPPED_SHOWN = 50;
const REPOSITORY_GLOB = /^[a-z0-9._*/-]{1,255}$/;

/**
 * Imports, lists and deletes VEX documents. Who may call it is the caller's business (the API
 * allows full-access callers only; the CLI is the operator). A document is checked whole before
 * anything is stored; an import replaces an earlier import of the same document and scope.
 */
export class VexService {
  private readonly store: VexStore;
  private readonly limits: VexDocumentLimits;
  private readonly logger: Logger;

  constructor(deps: { store: VexStore; limits: VexDocumentLimits; logger: Logger }) {
    this.store = deps.store;
    this.limits = deps.limits;
    this.logger = deps.logger;
  }

  /** The limits documents are read with. */
  get documentLimits(): VexDocumentLimits {
    return this.limits;
  }

  /** A scope from the caller's words; throws a 400 on a bad digest or glob, or both given. */
  static scope(request: VexScopeRequest): DecisionScope {
    if (request.image !== undefined && request.repository !== undefined) throw new BadRequestError('give an image or a repository scope, not both', { code: 'invalid_scope' });
    if (request.image !== undefined) {
      if (!isDigest(request.image)) throw new BadRequestError('image must be a sha256/sha512 digest', { code: 'invalid_scope' });
      return { kind: 'image', digest: request.image };
    }
    if (request.repository !== undefined) {
      if (!REPOSITORY_GLOB.test(request.repository)) throw new BadRequestError('repository must be a repository name or glob: a-z 0-9 . _ - / and *', { code: 'invalid_scope' });
      try {
        picomatch(request.repository);
      } catch {
        throw new BadRequestError(`invalid repository glob ${request.repository}`, { code: 'invalid_scope' });
      }
      return { kind: 'repository', pattern: request.repository };
    }
    return { kind: 'global' };
  }

  /** Checks and stores a document (its text) for `scope`; throws a `VexDocumentError` (400) with the position of a problem. */
  async import(text: string | Buffer, options: { scope: DecisionScope; importedBy: string | null; format?: VexFormat }): Promise<VexImportResult> {
    const parsed = parseVexDocument(text, this.limits, options.format);
    const sha256 = createHash('sha256').update(text).digest('hex');
    const outcome = await this.store.importDocument(parsed, { scope: options.scope, sha256, importedBy: options.importedBy });
    this.logger.info(
      { id: outcome.document.id, format: parsed.format, statements: parsed.statements.length, skipped: parsed.skipped.length, replaced: outcome.replaced, scope: options.scope.kind, reportsInvalidated: outcome.reportsInvalidated },
      'vex document imported',
    );
    return { document: outcome.document, replaced: outcome.replaced, skipped: parsed.skipped.slice(0, MAX_SKIPPED_SHOWN), skippedCount: parsed.skipped.length, reportsInvalidated: outcome.reportsInvalidated };
  }

  async list(options: { limit?: number; before?: string } = {}): Promise<{ items: StoredVexDocument[]; next: string | null }> {
    const limit = Math.min(200, Math.max(1, options.limit ?? 50));
    const before = options.before === undefined ? undefined : Number(options.before);
    if (before !== undefined && (!Number.isSafeInteger(before) || before <= 0)) throw new BadRequestError('before must be a document id from a previous page');
    const items = await this.store.list({ limit, ...(before !== undefined ? { before } : {}) });
    return { items, next: items.length === limit ? items[items.length - 1]!.id : null };
  }

  async get(id: string): Promise<{ document: StoredVexDocument; statements: StoredVexStatement[] }> {
    const found = await this.store.get(id);
    if (!found) throw new NotFoundError(`VEX document ${id.slice(0, 40)} is not known`);
    return found;
  }

  async delete(id: string): Promise<void> {
    if (!(await this.store.delete(id))) throw new NotFoundError(`VEX document ${id.slice(0, 40)} is not known`);
    this.logger.info({ id }, 'vex document deleted');
  }
}
