import type { Severity } from '../vulnerability-record.ts';

const WORDS: Readonly<Record<string, Severity>> = {
  unknown: 'Unknown',
  untriaged: 'Unknown',
  'not yet assigned': 'Unknown',
  'n/a': 'Unknown',
  none: 'Unknown',
  negligible: 'Negligible',
  unimportant: 'Negligible',
  low: 'Low',
  moderate: 'Medium',
  medium: 'Medium',
  important: 'High',
  high: 'High',
  critical: 'Critical',
};

/**
 * A vendor's severity word in the normalized scale, case-insensitively: Red Hat, Oracle, SUSE,
 * Photon and Amazon say Low / Moderate / Important / Critical (→ Low, Medium, High, Critical);
 * Ubuntu says untriaged / negligible / low / medium / high / critical. Anything else is Unknown.
 */
export function normalizeVendorSeverity(word: string | null | undefined): Severity {
  if (!word) return 'Unknown';
  return WORDS[word.trim().toLowerCase()] ?? 'Unknown';
}
