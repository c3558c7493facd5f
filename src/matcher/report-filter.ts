import { BadRequestError } from '../errors/app-error.ts';
import { SEVERITIES, type Severity } from '../ecosystems/vulnerability-record.ts';
import { buildRemediation } from '../remediation/build-remediation.ts';
import type { Finding } from './finding.ts';
import type { ImageReport, IndexReport } from './image-report.ts';
import { summarize } from './report-summary.ts';

/** Which findings to keep (`?severity=High,Critical&fixable=true`, `--ignore-unfixed`). All given conditions must hold. */
export interface FindingFilter {
  /** Keep only these severities. */
  severities?: readonly Severity[];
  /** Keep only findings at or above this severity. */
  minSeverity?: Severity;
  /** true: only findings with a fixed version to upgrade to; false: only those without. */
  fixable?: boolean;
  /** Drop findings without a fix (the same as `fixable: true`). */
  ignoreUnfixed?: boolean;
  /**
   * Keep the findings an operator decision (VEX, exception) suppressed, in `suppressedFindings`
   * (filtered like the others); without it they are left out of the document.
   */
  includeSuppressed?: boolean;
}

const MAX_FILTER_LENGTH = 200;

/** A severity from user input, case-insensitive (`high`, `CRITICAL`); throws a 400 {@link BadRequestError} naming the valid ones. */
export function parseSeverity(text: string): Severity {
  const t = text.trim().toLowerCase();
  const found = SEVERITIES.find((s) => s.toLowerCase() === t);
  if (found === undefined) {
    throw new BadRequestError(`unknown severity ${JSON.stringify(text.slice(0, 40))}; valid: ${SEVERITIES.join(', ')}`, { code: 'invalid_severity' });
  }
  return found;
}

/** A comma-separated severity list (`?severity=High,critical`), without duplicates; throws on an unknown one or an over-long list. */
export function parseSeverityList(text: string): Severity[] {
  if (text.length > MAX_FILTER_LENGTH) throw new BadRequestError('severity list too long', { code: 'invalid_severity' });
  const out: Severity[] = [];
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const s = parseSeverity(part);
    if (!out.includes(s)) out.push(s);
  }
  if (out.length === 0) throw new BadRequestError(`empty severity list; valid: ${SEVERITIES.join(', ')}`, { code: 'invalid_severity' });
  return out;
}

/** Whether a finding has a fixed version to upgrade to (state `fixed` with a version). */
export function isFixable(f: Pick<Finding, 'state' | 'fixedVersion'>): boolean {
  return f.state === 'fixed' && f.fixedVersion !== null;
}

/** The findings that pass `filter`, in their order. */
export function filterFindings<F extends Finding>(findings: readonly F[], filter: FindingFilter): F[] {
  const min = filter.minSeverity === undefined ? 0 : SEVERITIES.indexOf(filter.minSeverity);
  const only = filter.severities === undefined ? null : new Set(filter.severities);
  const fixable = filter.ignoreUnfixed === true ? true : filter.fixable;
  return findings.filter(
    (f) =>
      SEVERITIES.indexOf(f.severity) >= min &&
      (only === null || only.has(f.severity)) &&
      (fixable === undefined || isFixable(f) === fixable),
  );
}

/**
 * A copy of `report` with only the findings that pass `filter`, the summary (suppressed counts
 * kept) and the remediation advice counted again, and the suppressed findings only when
 * `includeSuppressed` (filtered alike); for an index, each platform's report is filtered.
 */
export function filterReport<R extends ImageReport | IndexReport>(report: R, filter: FindingFilter): R {
  if (report.kind === 'index') {
    const manifests = report.manifests.map((m) => filterReport(m, filter));
    const distinct = new Map<string, Finding>();
    for (const m of manifests) for (const f of m.findings) distinct.set(`${f.vulnerability}\u0000${f.package.ecosystem}\u0000${f.package.name}\u0000${f.package.version}`, f);
    const summary = summarize([...distinct.values()], report.summary.packages.total, report.summary.suppressed);
    summary.packages.vulnerable = manifests.reduce((n, m) => n + m.summary.packages.vulnerable, 0);
    return { ...report, manifests, summary };
  }
  const image: ImageReport = report;
  const findings = filterFindings(image.findings, filter);
  const { suppressedFindings, ...rest } = image;
  const out: ImageReport = {
    ...rest,
    findings,
    summary: summarize(findings, image.packages.length, image.summary.suppressed),
    remediation: buildRemediation({ findings, packages: image.packages, layers: image.image.layers, base: image.remediation?.base ?? null }),
  };
  if (filter.includeSuppressed === true) out.suppressedFindings = filterFindings(suppressedFindings ?? [], filter);
  return out as R;
}

/** What `--fail-on SEVERITY` decided. */
export interface FailOnDecision {
  fail: boolean;
  /** Findings at or above the threshold (after the filter). */
  count: number;
  /** The most severe finding's severity, null when there are none. */
  worst: Severity | null;
}

/**
 * `--fail-on SEVERITY`: fail when any finding (of any platform, after `filter`, e.g.
 * `ignoreUnfixed`) is at or above `threshold`. `--fail-on Unknown` fails on any finding.
 */
export function failOn(report: ImageReport | IndexReport, threshold: Severity, filter: FindingFilter = {}): FailOnDecision {
  const findings = report.kind === 'index' ? report.manifests.flatMap((m) => m.findings) : report.findings;
  const kept = filterFindings(findings, filter);
  const at = SEVERITIES.indexOf(threshold);
  let count = 0;
  let worst = -1;
  for (const f of kept) {
    const i = SEVERITIES.indexOf(f.severity);
    if (i >= at) count++;
    if (i > worst) worst = i;
  }
  return { fail: count > 0, count, worst: worst < 0 ? null : SEVERITIES[worst]! };
}
