import picomatch from 'picomatch';
import { z } from 'zod';
import { exceptionCovers, findingIds, normalizeId } from '../decisions/apply-decisions.ts';
import type { DecisionSource } from '../decisions/decision-set.ts';
import { BadRequestError, NotFoundError } from '../errors/app-error.ts';
import type { Logger } from '../log/create-logger.ts';
import type { Finding } from '../matcher/finding.ts';
import type { ImageReport } from '../matcher/image-report.ts';
import type { ReportService } from '../matcher/report-service.ts';
import type { NotificationEvent } from '../notifier/notification-payload.ts';
import { isDigest } from '../oci/digest.ts';
import { VULNERABILITY_ID } from '../vex/parsed-vex.ts';
import type { ExceptionState, ExceptionStore, StoredException } from './exception-store.ts';

/** Writes outbox rows for findings of one image (the change notifier's `onFindings`). */
export type FindingsNotifier = (manifestId: number, report: ImageReport, findings: readonly Finding[], event: NotificationEvent, dedupeSuffix: string) => Promise<number>;

/** What {@link ExceptionService} needs. */
export interface ExceptionServiceDeps {
  store: ExceptionStore;
  reports: ReportService;
  decisions: DecisionSource;
  notify: FindingsNotifier;
  logger: Logger;
  /** Longest an exception may last from its creation. */
  maxDurationDays: number;
  now?: () => Date;
  /** Called after an expiry wrote outbox rows (wakes an in-process deliverer). */
  onNotified?: () => void;
}

const createBody = z.strictObject({
  vulnerability: z.string().trim().regex(VULNERABILITY_ID, 'an advisory id (CVE-…, GHSA-…)'),
  package: z.string().trim().min(1).max(256).regex(/^[^\s\u0000-\u001f]+$/, 'a package name without spaces').optional(),
  repository: z.string().min(1).max(255).regex(/^[a-z0-9._*/-]+$/, 'a repository name or glob: a-z 0-9 . _ - / and *').optional(),
  image: z.string().refine(isDigest, 'a sha256/sha512 digest').optional(),
  reason: z.string().trim().min(1).max(2000),
  author: z.string().trim().min(1).max(200).optional(),
  expires: z.iso.datetime({ offset: true }),
});

const STATES: readonly ExceptionState[] = ['active', 'expired', 'deleted', 'all'];
const DUE_BATCH = 100;

/** An exception as the API shows it. */
export interface ExceptionView {
  id: string;
  vulnerability: string;
  package: string | null;
  repository: string | null;
  image: string | null;
  reason: string;
  author: string;
  expires: string;
  state: 'active' | 'expired' | 'deleted';
  createdAt: string;
  deletedAt: string | null;
  deletedBy: string | null;
}

/**
 * Exceptions: a finding (a vulnerability, optionally limited to a package, a repository glob or
 * an image) accepted with a reason, an author and an expiry. While live, matching findings are
 * suppressed in reports (and so in counts and notifications); once expired they are not applied,
 * and {@link processExpired} refreshes the affected images' reports and writes one
 * `exception-expired` notification per (subscription, image, finding) for what came back.
 */
export class ExceptionService {
  private readonly deps: ExceptionServiceDeps;
  private readonly now: () => Date;

  constructor(deps: ExceptionServiceDeps) {
    this.deps = deps;
    this.now = deps.now ?? (() => new Date());
  }

  /** Checks and stores an exception; `subject` (the caller's, when its credentials name one) is the author, else the body's `author`. */
  async create(body: unknown, subject: string | null): Promise<ExceptionView> {
    const parsed = createBody.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new BadRequestError(`invalid exception: ${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid'}`, { code: 'invalid_exception' });
    }
    const input = parsed.data;
    const now = this.now();
    const expiresAt = new Date(input.expires);
    if (expiresAt.getTime() <= now.getTime()) throw new BadRequestError('invalid exception: expires: must be in the future', { code: 'invalid_exception' });
    const max = now.getTime() + this.deps.maxDurationDays * 86_400_000;
    if (expiresAt.getTime() > max) throw new BadRequestError(`invalid exception: expires: at most ${this.deps.maxDurationDays} days from now`, { code: 'invalid_exception' });
    if (input.repository !== undefined) {
      try {
        picomatch(input.repository);
      } catch {
        throw new BadRequestError(`invalid exception: repository: invalid glob ${input.repository}`, { code: 'invalid_exception' });
      }
    }
    const author = subject ?? input.author ?? null;
    if (author === null) throw new BadRequestError('invalid exception: author: required when the credentials name no subject', { code: 'invalid_exception' });
    const stored = await this.deps.store.create({
      vulnerability: normalizeId(input.vulnerability),
      packageName: input.package ?? null,
      repositoryPattern: input.repository ?? null,
      imageDigest: input.image ?? null,
      reason: input.reason,
      author,
      expiresAt,
    });
    this.deps.logger.info({ id: stored.id, vulnerability: stored.vulnerability, expires: stored.expiresAt }, 'exception created');
    return this.view(stored);
  }

  async list(query: { state?: string; vulnerability?: string; limit?: number } = {}): Promise<ExceptionView[]> {
    const state = (query.state ?? 'active') as ExceptionState;
    if (!STATES.includes(state)) throw new BadRequestError(`state must be one of ${STATES.join(', ')}`);
    const limit = Math.min(1000, Math.max(1, query.limit ?? 200));
    const items = await this.deps.store.list({ state, now: this.now(), limit, ...(query.vulnerability ? { vulnerability: normalizeId(query.vulnerability) } : {}) });
    return items.map((e) => this.view(e));
  }

  async get(id: string): Promise<ExceptionView> {
    const found = await this.deps.store.get(id);
    if (!found) throw new NotFoundError(`exception ${id.slice(0, 40)} is not known`);
    return this.view(found);
  }

  async delete(id: string, by: string | null): Promise<void> {
    const deleted = await this.deps.store.delete(id, by);
    if (!deleted) throw new NotFoundError(`exception ${id.slice(0, 40)} is not known`);
    this.deps.logger.info({ id, vulnerability: deleted.vulnerability }, 'exception deleted');
  }

  /**
   * Acts on exceptions whose expiry passed: refreshes the report of each image holding a package
   * their vulnerability names, and writes `exception-expired` outbox rows (deduplicated on the
   * exception id, so once) for the findings each brought back; then marks it processed. Safe to
   * run again after a crash (the outbox ignores a row written twice). Returns the rows written.
   */
  async processExpired(signal?: AbortSignal): Promise<number> {
    let written = 0;
    for (;;) {
      const due = await this.deps.store.due(this.now(), DUE_BATCH);
      if (due.length === 0) break;
      for (const e of due) {
        if (signal?.aborted) return written;
        written += await this.expire(e);
        await this.deps.store.markExpiryProcessed(e.id);
      }
      if (due.length < DUE_BATCH) break;
    }
    if (written > 0) this.deps.onNotified?.();
    return written;
  }

  private async expire(e: StoredException): Promise<number> {
    const manifests = await this.deps.store.affectedManifests([e.vulnerability]);
    // Judged as of just before the expiry: which findings did this exception cover?
    const before = new Date(Date.parse(e.expiresAt) - 1);
    let written = 0;
    let refreshed = 0;
    const repositoryMatch = e.repositoryPattern === null ? null : picomatch(e.repositoryPattern);
    for (const { id: manifestId, digest } of manifests) {
      // Out of the exception's scope: nothing of this image changes.
      if (e.imageDigest !== null && digest !== e.imageDigest) continue;
      const repositories = await this.deps.decisions.repositoriesOf(manifestId);
      if (repositoryMatch !== null && !repositories.some((r) => repositoryMatch(r))) continue;
      const { report } = await this.deps.reports.refresh(manifestId);
      refreshed++;
      const image = { digest: report.image.digest, repositories, release: null };
      const packages = new Map(report.packages.map((p) => [String(p.id), p]));
      const back = report.findings.filter((f) => exceptionCovers(e, new Set(findingIds(f)), packages.get(String(f.packageId)), image, before));
      if (back.length > 0) written += await this.deps.notify(manifestId, report, back, 'exception-expired', `exception:${e.id}`);
    }
    this.deps.logger.info({ id: e.id, vulnerability: e.vulnerability, images: refreshed, written }, 'exception expired');
    return written;
  }

  private view(e: StoredException): ExceptionView {
    const state = e.deletedAt !== null ? 'deleted' : Date.parse(e.expiresAt) <= this.now().getTime() ? 'expired' : 'active';
    return {
      id: e.id,
      vulnerability: e.vulnerability,
      package: e.packageName,
      repository: e.repositoryPattern,
      image: e.imageDigest,
      reason: e.reason,
      author: e.author,
      expires: e.expiresAt,
      state,
      createdAt: e.createdAt,
      deletedAt: e.deletedAt,
      deletedBy: e.deletedBy,
    };
  }
}
