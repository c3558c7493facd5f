import type { CvssScore, Severity } from '../vulnerability-record.ts';
import { scoreCvssV2 } from './cvss-v2.ts';
import { scoreCvssV3 } from './cvss-v3.ts';
import { scoreCvssV4 } from './cvss-v4.ts';
import { InvalidCvssError } from './invalid-cvss-error.ts';

/**
 * Scores a vector as feeds publish it, whatever its version: `CVSS:4.0/…`, `CVSS:3.x/…`, or a bare
 * (or parenthesised, or `CVSS:2.0/`-prefixed) v2 vector. Surrounding blanks and one trailing `/`
 * are tolerated. The score is the base score for v2 and v3 (temporal and environmental metrics are
 * kept in the vector but not applied, as NVD reports it) and the CVSS-BTE score for v4.
 * Throws {@link InvalidCvssError} when the vector is not valid for its version.
 */
export function scoreCvssVector(raw: string, source?: string): CvssScore {
  let vector = raw.trim();
  if (vector.endsWith('/')) vector = vector.slice(0, -1);
  const withSource = (s: CvssScore): CvssScore => (source === undefined ? s : { ...s, source });
  if (vector.startsWith('CVSS:4.0/')) {
    const v4 = scoreCvssV4(vector);
    return withSource({ version: '4.0', vector, score: v4.score });
  }
  if (vector.startsWith('CVSS:3.')) {
    const v3 = scoreCvssV3(vector);
    return withSource({ version: v3.version, vector, score: v3.baseScore });
  }
  if (vector.startsWith('(') && vector.endsWith(')')) vector = vector.slice(1, -1);
  if (vector.startsWith('CVSS:2.0/')) vector = vector.slice('CVSS:2.0/'.length);
  if (vector.startsWith('AV:')) {
    const v2 = scoreCvssV2(vector);
    return withSource({ version: '2.0', vector, score: v2.baseScore });
  }
  throw new InvalidCvssError(raw, 'unknown CVSS version');
}

/**
 * The normalized severity of a CVSS score, by the rating scale of its version: v3/v4 (0 None →
 * Negligible, Low < 4, Medium < 7, High < 9, Critical) and NVD's v2 scale (Low < 4, Medium < 7,
 * High; v2 has no Critical).
 */
export function severityFromCvss(cvss: Pick<CvssScore, 'version' | 'score'>): Severity {
  const s = cvss.score;
  if (!Number.isFinite(s) || s < 0 || s > 10) return 'Unknown';
  if (cvss.version === '2.0') return s < 4 ? 'Low' : s < 7 ? 'Medium' : 'High';
  if (s === 0) return 'Negligible';
  return s < 4 ? 'Low' : s < 7 ? 'Medium' : s < 9 ? 'High' : 'Critical';
}
