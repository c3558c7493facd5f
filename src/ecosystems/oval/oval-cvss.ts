import type { CvssScore } from '../vulnerability-record.ts';

/** The CVSS version a vector string is written in (`CVSS:3.1/…` → `3.1`; a bare v2 vector → `2.0`), or null. */
export function cvssVersionOf(vector: string): CvssScore['version'] | null {
  const m = /^CVSS:(\d\.\d)\//.exec(vector);
  if (m) return m[1] === '3.0' || m[1] === '3.1' || m[1] === '4.0' ? m[1] : null;
  return /^AV:[LAN]\/AC:[HML]\/Au:[MSN]\/C:[NPC]\/I:[NPC]\/A:[NPC]/.test(vector) ? '2.0' : null;
}

/**
 * A CVSS score from a vector and a base score given separately (Ubuntu's `cvss_vector` /
 * `cvss_score`, CSAF's `vectorString` / `baseScore`), or null when either is unusable.
 */
export function cvssScore(vector: string | null | undefined, score: string | number | null | undefined, source?: string): CvssScore | null {
  const v = vector?.trim() ?? '';
  const version = cvssVersionOf(v);
  const n = typeof score === 'number' ? score : Number.parseFloat(score ?? '');
  if (version === null || !Number.isFinite(n) || n < 0 || n > 10) return null;
  return source === undefined ? { version, vector: v, score: n } : { version, vector: v, score: n, source };
}

/**
 * A CVSS score from the `score/vector` form of Red Hat, Oracle and SUSE OVAL `cvss2` / `cvss3`
 * attributes (`5.7/CVSS:3.0/AV:N/…`, `4.3/AV:N/AC:M/Au:N/…`), or null when unusable.
 */
export function parseScoreSlashVector(text: string | null | undefined, source?: string): CvssScore | null {
  const t = text?.trim() ?? '';
  const i = t.indexOf('/');
  if (i <= 0) return null;
  return cvssScore(t.slice(i + 1), t.slice(0, i), source);
}
