import picomatch from 'picomatch';
import type { Finding, SuppressedFinding, Suppression } from '../matcher/finding.ts';
import type { PackageId } from '../matcher/match-input.ts';
import { lookupName } from '../matcher/package-scope.ts';
import { purlMatchesPackage, type PurlTarget } from '../vex/package-purl-match.ts';
import type { DecisionImage, DecisionScope, DecisionSet, ExceptionDecision, VexDecision } from './decision-set.ts';

/** The outcome of {@link applyDecisions}. */
export interface DecidedFindings {
  /** Findings that stay (some with a VEX `affected`/`under_investigation` statement), in their order. */
  findings: Finding[];
  /** Findings a VEX statement (not affected, fixed) or a live exception left out, in their order. */
  suppressed: SuppressedFinding[];
}

const globCache = new Map<string, (s: string) => boolean>();

function glob(pattern: string): (s: string) => boolean {
  let m = globCache.get(pattern);
  if (!m) {
    if (globCache.size > 1000) globCache.clear();
    m = picomatch(pattern);
    globCache.set(pattern, m);
  }
  return m;
}

/** The ids a finding goes by: its vulnerability and aliases, CVE ids upper-cased. */
export function findingIds(f: Pick<Finding, 'vulnerability' | 'aliases'>): string[] {
  return [f.vulnerability, ...f.aliases].map(normalizeId);
}

/** An advisory id as decisions store it: trimmed, CVE ids upper-cased. */
export function normalizeId(id: string): string {
  const t = id.trim();
  return /^cve-/i.test(t) ? t.toUpperCase() : t;
}

/** Whether a document or exception scope covers the image. */
export function scopeCovers(scope: DecisionScope, image: DecisionImage): boolean {
  if (scope.kind === 'global') return true;
  if (scope.kind === 'image') return scope.digest === image.digest;
  const match = glob(scope.pattern);
  return image.repositories.some((r) => match(r));
}

/** Whether a VEX statement speaks of this finding of this image's package. */
export function vexCovers(v: VexDecision, ids: ReadonlySet<string>, pkg: PurlTarget | undefined, image: DecisionImage): boolean {
  if (!ids.has(v.vulnerability) && !v.aliases.some((a) => ids.has(a))) return false;
  if (v.imageDigest !== null && v.imageDigest !== image.digest) return false;
  if (!scopeCovers(v.scope, image)) return false;
  if (v.packagePurl === null) return true;
  return pkg !== undefined && purlMatchesPackage(v.packagePurl, pkg, image.release);
}

/**
 * Whether a live exception covers this finding: its vulnerability is one of the finding's ids,
 * its package (when named) is the package's name or source name, its image (when named) is the
 * image, its repository glob (when given) matches a repository of the image, and `now` is before
 * its expiry.
 */
export function exceptionCovers(e: ExceptionDecision, ids: ReadonlySet<string>, pkg: PurlTarget | undefined, image: DecisionImage, now: Date): boolean {
  if (Date.parse(e.expiresAt) <= now.getTime()) return false;
  if (!ids.has(e.vulnerability)) return false;
  if (e.imageDigest !== null && e.imageDigest !== image.digest) return false;
  if (e.repositoryPattern !== null) {
    const match = glob(e.repositoryPattern);
    if (!image.repositories.some((r) => match(r))) return false;
  }
  if (e.packageName !== null) {
    if (pkg === undefined) return false;
    const wanted = lookupName(pkg.ecosystem, e.packageName.trim());
    const names = [pkg.name, pkg.sourceName ?? null].filter((n): n is string => n !== null && n.trim() !== '').map((n) => lookupName(pkg.ecosystem, n.trim()));
    if (!names.includes(wanted)) return false;
  }
  return true;
}

/** How specific a statement is: image and package named (3), package (2), image (1), neither (0); a scoped document counts as naming the image. */
function specificity(v: VexDecision): number {
  const image = v.imageDigest !== null || v.scope.kind !== 'global' ? 1 : 0;
  return (v.packagePurl !== null ? 2 : 0) + image;
}

/** The statement that decides: most specific, then the latest document, then the latest statement. */
function pickVex(list: readonly VexDecision[]): VexDecision | undefined {
  let best: VexDecision | undefined;
  for (const v of list) {
    if (best === undefined) {
      best = v;
      continue;
    }
    const d = specificity(v) - specificity(best) || Date.parse(v.importedAt) - Date.parse(best.importedAt) || Number(v.documentId) - Number(best.documentId) || v.id - best.id;
    if (d > 0) best = v;
  }
  return best;
}

/** The exception that decides: one naming an image, then a package, then the latest expiry. */
function pickException(list: readonly ExceptionDecision[]): ExceptionDecision | undefined {
  const rank = (e: ExceptionDecision) => (e.imageDigest !== null ? 4 : 0) + (e.packageName !== null ? 2 : 0) + (e.repositoryPattern !== null ? 1 : 0);
  let best: ExceptionDecision | undefined;
  for (const e of list) if (best === undefined || rank(e) - rank(best) > 0 || (rank(e) === rank(best) && Date.parse(e.expiresAt) > Date.parse(best.expiresAt))) best = e;
  return best;
}

/**
 * Applies operator decisions to an image's findings:
 * - a VEX statement saying `not_affected` or `fixed` (the most specific one of those that name
 *   the finding's vulnerability or an alias, the image or its scope, and the package by purl)
 *   suppresses the finding, keeping its justification and impact statement;
 * - otherwise a live exception (not expired at `now`) suppresses it, keeping reason, author and expiry;
 * - otherwise an `under_investigation` statement sets the finding's state (its words in
 *   `stateReason`), and an `affected` one is attached (`vex`) with its action statement.
 * Pure; returns new finding objects for those it changes, never modifies its input.
 */
export function applyDecisions(
  findings: readonly Finding[],
  packages: ReadonlyMap<string, PurlTarget>,
  image: DecisionImage,
  decisions: DecisionSet,
  now: Date,
): DecidedFindings {
  if (decisions.vex.length === 0 && decisions.exceptions.length === 0) return { findings: [...findings], suppressed: [] };
  const naming = decisionIndex(decisions);
  const out: Finding[] = [];
  const suppressed: SuppressedFinding[] = [];
  for (const f of findings) {
    const ids = new Set(findingIds(f));
    const pkg = packages.get(String(f.packageId as PackageId));
    const statements = naming.vex(ids).filter((v) => vexCovers(v, ids, pkg, image));
    const closing = pickVex(statements.filter((v) => v.status === 'not_affected' || v.status === 'fixed'));
    if (closing !== undefined) {
      const suppression: Suppression = {
        by: 'vex',
        id: closing.documentId,
        status: closing.status as 'not_affected' | 'fixed',
        justification: closing.justification,
        reason: closing.impactStatement ?? closing.actionStatement,
        author: closing.author,
        expires: null,
      };
      suppressed.push({ ...f, suppression });
      continue;
    }
    const exception = pickException(naming.exceptions(ids).filter((e) => exceptionCovers(e, ids, pkg, image, now)));
    if (exception !== undefined) {
      suppressed.push({
        ...f,
        suppression: { by: 'exception', id: exception.id, status: null, justification: null, reason: exception.reason, author: exception.author, expires: new Date(exception.expiresAt).toISOString() },
      });
      continue;
    }
    const open = pickVex(statements.filter((v) => v.status === 'under_investigation' || v.status === 'affected'));
    if (open === undefined) {
      out.push(f);
      continue;
    }
    const vex = { id: open.documentId, status: open.status, justification: open.justification, impactStatement: open.impactStatement, actionStatement: open.actionStatement };
    if (open.status === 'under_investigation') {
      out.push({ ...f, state: 'under_investigation', stateReason: `VEX ${open.documentId}: under investigation${open.impactStatement ? ` (${open.impactStatement})` : ''}`, vex });
    } else {
      out.push({ ...f, vex });
    }
  }
  return { findings: out, suppressed };
}

/** The decisions of a set that name one of some ids, found by id rather than by trying each decision. */
export interface DecisionIndex {
  vex(ids: ReadonlySet<string>): VexDecision[];
  exceptions(ids: ReadonlySet<string>): ExceptionDecision[];
}

/** {@link DecisionIndex} of `decisions`: statements by vulnerability and alias, exceptions by vulnerability. */
export function decisionIndex(decisions: DecisionSet): DecisionIndex {
  const vex = byId(decisions.vex, (v) => [v.vulnerability, ...v.aliases]);
  const exceptions = byId(decisions.exceptions, (e) => [e.vulnerability]);
  return { vex: (ids) => naming(vex, ids), exceptions: (ids) => naming(exceptions, ids) };
}

/** `items` by each id `idsOf` gives. */
function byId<T>(items: readonly T[], idsOf: (item: T) => readonly string[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    for (const id of idsOf(item)) {
      const list = out.get(id);
      if (list === undefined) out.set(id, [item]);
      else if (list[list.length - 1] !== item) list.push(item);
    }
  }
  return out;
}

/** The items of `index` under any of `ids`, each once. */
function naming<T>(index: ReadonlyMap<string, readonly T[]>, ids: ReadonlySet<string>): T[] {
  const found = new Set<T>();
  for (const id of ids) for (const item of index.get(id) ?? []) found.add(item);
  return [...found];
}
