import type { Severity } from '../../ecosystems/vulnerability-record.ts';

/**
 * A 0–10 score standing for a normalized severity, inside the band code scanning tools read it
 * back as (Critical ≥ 9.0, High 7.0–8.9, Medium 4.0–6.9, Low 0.1–3.9): the report's own severity,
 * not a CVSS score that may disagree with the vendor's rating.
 */
export const SEVERITY_SCORE: Readonly<Record<Severity, number>> = {
  Critical: 9.5,
  High: 8.0,
  Medium: 5.5,
  Low: 2.0,
  Negligible: 0.5,
  Unknown: 0.0,
};
