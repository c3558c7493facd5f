import { FINDING_STATES, SEVERITIES, type FindingState, type Severity } from '../ecosystems/vulnerability-record.ts';
import type { Finding } from './finding.ts';
import type { SuppressionCount, SuppressionReason } from './match-packages.ts';

/**
 * Why findings or packages were left out of a report: the matcher's reasons, and the operator's
 * decisions (`vex`: a not-affected or fixed VEX statement; `exception`: an accepted finding).
 */
export type ReportSuppressionReason = SuppressionReason | 'vex' | 'exception';

/** Counts over a report's findings. */
export interface ReportSummary {
  total: number;
  bySeverity: Record<Severity, number>;
  byState: Record<FindingState, number>;
  /** Findings with a fixed version to upgrade to. */
  fixable: number;
  packages: { total: number; vulnerable: number };
  /** What was left out, by reason. */
  suppressed: Record<ReportSuppressionReason, SuppressionCount>;
}

/** Counts of findings per severity and state, fixable ones, vulnerable packages; `suppressed` copied. */
export function summarize(findings: readonly Finding[], packageCount: number, suppressed: Partial<Record<ReportSuppressionReason, SuppressionCount>> = emptySuppressed()): ReportSummary {
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  const byState = Object.fromEntries(FINDING_STATES.map((s) => [s, 0])) as Record<FindingState, number>;
  let fixable = 0;
  const vulnerable = new Set<string>();
  for (const f of findings) {
    bySeverity[f.severity]++;
    byState[f.state]++;
    if (f.state === 'fixed' && f.fixedVersion !== null) fixable++;
    vulnerable.add(String(f.packageId));
  }
  return {
    total: findings.length,
    bySeverity,
    byState,
    fixable,
    packages: { total: packageCount, vulnerable: vulnerable.size },
    suppressed: { ...emptySuppressed(), ...structuredClone(suppressed) },
  };
}

/** Suppression counts of nothing suppressed. */
export function emptySuppressed(): Record<ReportSuppressionReason, SuppressionCount> {
  return {
    'kernel-headers': { packages: 0, findings: 0 },
    'third-party': { packages: 0, findings: null },
    'owned-by-os-package': { packages: 0, findings: null },
    vex: { packages: 0, findings: 0 },
    exception: { packages: 0, findings: 0 },
  };
}

