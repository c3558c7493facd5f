import { InvalidCvssError } from './invalid-cvss-error.ts';
import { MAX_VECTOR_LENGTH, parseMetrics, requireMetrics } from './parse-metrics.ts';

/** Scores of a CVSS v3.0 or v3.1 vector; `score` is the most specific one the vector defines. */
export interface CvssV3Scores {
  version: '3.0' | '3.1';
  vector: string;
  baseScore: number;
  /** Set when the vector defines a temporal metric (other than `X`). */
  temporalScore: number | null;
  /** Set when the vector defines an environmental metric (other than `X`). */
  environmentalScore: number | null;
  /** Environmental, else temporal, else base. */
  score: number;
}

const IMPACT = ['H', 'L', 'N'];
const METRICS: Readonly<Record<string, readonly string[]>> = {
  AV: ['N', 'A', 'L', 'P'],
  AC: ['L', 'H'],
  PR: ['N', 'L', 'H'],
  UI: ['N', 'R'],
  S: ['U', 'C'],
  C: IMPACT,
  I: IMPACT,
  A: IMPACT,
  E: ['X', 'H', 'F', 'P', 'U'],
  RL: ['X', 'U', 'W', 'T', 'O'],
  RC: ['X', 'C', 'R', 'U'],
  CR: ['X', 'H', 'M', 'L'],
  IR: ['X', 'H', 'M', 'L'],
  AR: ['X', 'H', 'M', 'L'],
  MAV: ['X', 'N', 'A', 'L', 'P'],
  MAC: ['X', 'L', 'H'],
  MPR: ['X', 'N', 'L', 'H'],
  MUI: ['X', 'N', 'R'],
  MS: ['X', 'U', 'C'],
  MC: ['X', ...IMPACT],
  MI: ['X', ...IMPACT],
  MA: ['X', ...IMPACT],
};
const BASE = ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'];
const TEMPORAL = ['E', 'RL', 'RC'];
const ENVIRONMENTAL = ['CR', 'IR', 'AR', 'MAV', 'MAC', 'MPR', 'MUI', 'MS', 'MC', 'MI', 'MA'];

const AV: Record<string, number> = { N: 0.85, A: 0.62, L: 0.55, P: 0.2 };
const AC: Record<string, number> = { L: 0.77, H: 0.44 };
const UI: Record<string, number> = { N: 0.85, R: 0.62 };
const CIA: Record<string, number> = { H: 0.56, L: 0.22, N: 0 };
const E: Record<string, number> = { X: 1, H: 1, F: 0.97, P: 0.94, U: 0.91 };
const RL: Record<string, number> = { X: 1, U: 1, W: 0.97, T: 0.96, O: 0.95 };
const RC: Record<string, number> = { X: 1, C: 1, R: 0.96, U: 0.92 };
const REQ: Record<string, number> = { X: 1, H: 1.5, M: 1, L: 0.5 };

function privileges(pr: string, scopeChanged: boolean): number {
  if (pr === 'N') return 0.85;
  if (pr === 'L') return scopeChanged ? 0.68 : 0.62;
  return scopeChanged ? 0.5 : 0.27;
}

/**
 * Parses and scores a CVSS v3.0/v3.1 vector (`CVSS:3.1/AV:N/…`): all eight base metrics, optional
 * temporal and environmental metrics in any order, no duplicates. Uses the version's own rounding
 * (3.1's floating-point-safe Roundup, 3.0's plain ceiling) and environmental formula. Throws
 * {@link InvalidCvssError} for anything else.
 */
export function scoreCvssV3(vector: string): CvssV3Scores {
  if (vector.length > MAX_VECTOR_LENGTH) throw new InvalidCvssError(vector, 'too long');
  const prefix = /^CVSS:(3\.[01])\//.exec(vector);
  if (!prefix) throw new InvalidCvssError(vector, 'does not start with CVSS:3.0/ or CVSS:3.1/');
  const version = prefix[1] as '3.0' | '3.1';
  const m = parseMetrics(vector, vector.slice(prefix[0].length), METRICS, false);
  requireMetrics(vector, m, BASE, 'base');
  const get = (name: string): string => m.get(name) ?? 'X';
  const roundup = version === '3.1' ? roundup31 : roundup30;

  const scopeChanged = get('S') === 'C';
  const iss = 1 - (1 - CIA[get('C')]!) * (1 - CIA[get('I')]!) * (1 - CIA[get('A')]!);
  const impact = scopeChanged ? 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 : 6.42 * iss;
  const exploitability = 8.22 * AV[get('AV')]! * AC[get('AC')]! * privileges(get('PR'), scopeChanged) * UI[get('UI')]!;
  const baseScore = impact <= 0 ? 0 : roundup(Math.min((scopeChanged ? 1.08 : 1) * (impact + exploitability), 10));

  const temporalFactor = E[get('E')]! * RL[get('RL')]! * RC[get('RC')]!;
  const hasTemporal = TEMPORAL.some((n) => get(n) !== 'X');
  const hasEnvironmental = ENVIRONMENTAL.some((n) => get(n) !== 'X');
  const temporalScore = hasTemporal ? roundup(baseScore * temporalFactor) : null;

  let environmentalScore: number | null = null;
  if (hasEnvironmental) {
    const mod = (name: string): string => (get(`M${name}`) === 'X' ? get(name) : get(`M${name}`));
    const mScopeChanged = mod('S') === 'C';
    const miss = Math.min(
      1 - (1 - REQ[get('CR')]! * CIA[mod('C')]!) * (1 - REQ[get('IR')]! * CIA[mod('I')]!) * (1 - REQ[get('AR')]! * CIA[mod('A')]!),
      0.915,
    );
    const mImpact = mScopeChanged
      ? version === '3.1'
        ? 7.52 * (miss - 0.029) - 3.25 * (miss * 0.9731 - 0.02) ** 13
        : 7.52 * (miss - 0.029) - 3.25 * (miss - 0.02) ** 15
      : 6.42 * miss;
    const mExploitability = 8.22 * AV[mod('AV')]! * AC[mod('AC')]! * privileges(mod('PR'), mScopeChanged) * UI[mod('UI')]!;
    environmentalScore =
      mImpact <= 0 ? 0 : roundup(roundup(Math.min((mScopeChanged ? 1.08 : 1) * (mImpact + mExploitability), 10)) * temporalFactor);
  }
  return { version, vector, baseScore, temporalScore, environmentalScore, score: environmentalScore ?? temporalScore ?? baseScore };
}

/** CVSS v3.1 Roundup (specification appendix A): the smallest one-decimal number ≥ x, without float noise. */
function roundup31(x: number): number {
  const i = Math.round(x * 100_000);
  return i % 10_000 === 0 ? i / 100_000 : (Math.floor(i / 10_000) + 1) / 10;
}

/** CVSS v3.0 round up to one decimal. */
function roundup30(x: number): number {
  return Math.ceil(x * 10) / 10;
}
