import { InvalidCvssError } from './invalid-cvss-error.ts';
import { MAX_VECTOR_LENGTH, parseMetrics, requireMetrics } from './parse-metrics.ts';

/** Scores of a CVSS v2 vector; `score` is the most specific one the vector defines. */
export interface CvssV2Scores {
  version: '2.0';
  vector: string;
  baseScore: number;
  /** Set when the vector has the temporal group (E, RL, RC). */
  temporalScore: number | null;
  /** Set when the vector has the environmental group (CDP, TD, CR, IR, AR). */
  environmentalScore: number | null;
  /** Environmental, else temporal, else base. */
  score: number;
}

const METRICS: Readonly<Record<string, readonly string[]>> = {
  AV: ['L', 'A', 'N'],
  AC: ['H', 'M', 'L'],
  Au: ['M', 'S', 'N'],
  C: ['N', 'P', 'C'],
  I: ['N', 'P', 'C'],
  A: ['N', 'P', 'C'],
  E: ['U', 'POC', 'F', 'H', 'ND'],
  RL: ['OF', 'TF', 'W', 'U', 'ND'],
  RC: ['UC', 'UR', 'C', 'ND'],
  CDP: ['N', 'L', 'LM', 'MH', 'H', 'ND'],
  TD: ['N', 'L', 'M', 'H', 'ND'],
  CR: ['L', 'M', 'H', 'ND'],
  IR: ['L', 'M', 'H', 'ND'],
  AR: ['L', 'M', 'H', 'ND'],
};
const BASE = ['AV', 'AC', 'Au', 'C', 'I', 'A'];
const TEMPORAL = ['E', 'RL', 'RC'];
const ENVIRONMENTAL = ['CDP', 'TD', 'CR', 'IR', 'AR'];

const W: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  AV: { L: 0.395, A: 0.646, N: 1.0 },
  AC: { H: 0.35, M: 0.61, L: 0.71 },
  Au: { M: 0.45, S: 0.56, N: 0.704 },
  C: { N: 0, P: 0.275, C: 0.66 },
  I: { N: 0, P: 0.275, C: 0.66 },
  A: { N: 0, P: 0.275, C: 0.66 },
  E: { U: 0.85, POC: 0.9, F: 0.95, H: 1.0, ND: 1.0 },
  RL: { OF: 0.87, TF: 0.9, W: 0.95, U: 1.0, ND: 1.0 },
  RC: { UC: 0.9, UR: 0.95, C: 1.0, ND: 1.0 },
  CDP: { N: 0, L: 0.1, LM: 0.3, MH: 0.4, H: 0.5, ND: 0 },
  TD: { N: 0, L: 0.25, M: 0.75, H: 1.0, ND: 1.0 },
  CR: { L: 0.5, M: 1.0, H: 1.51, ND: 1.0 },
  IR: { L: 0.5, M: 1.0, H: 1.51, ND: 1.0 },
  AR: { L: 0.5, M: 1.0, H: 1.51, ND: 1.0 },
};

/**
 * Parses and scores a CVSS v2 vector as NVD writes it (`AV:N/AC:L/Au:N/C:P/I:P/A:P`, metrics in the
 * specification's order, no prefix), with the optional temporal and environmental groups, each
 * complete or absent. Throws {@link InvalidCvssError} for anything else.
 */
export function scoreCvssV2(vector: string): CvssV2Scores {
  if (vector.length > MAX_VECTOR_LENGTH) throw new InvalidCvssError(vector, 'too long');
  const m = parseMetrics(vector, vector, METRICS, true);
  requireMetrics(vector, m, BASE, 'base');
  const hasTemporal = TEMPORAL.some((n) => m.has(n));
  const hasEnvironmental = ENVIRONMENTAL.some((n) => m.has(n));
  if (hasTemporal) requireMetrics(vector, m, TEMPORAL, 'temporal');
  if (hasEnvironmental) requireMetrics(vector, m, ENVIRONMENTAL, 'environmental');
  const w = (name: string): number => W[name]![m.get(name) ?? 'ND']!;

  const exploitability = 20 * w('AV') * w('AC') * w('Au');
  const base = (impact: number): number => round1((0.6 * impact + 0.4 * exploitability - 1.5) * (impact === 0 ? 0 : 1.176));
  const baseScore = base(10.41 * (1 - (1 - w('C')) * (1 - w('I')) * (1 - w('A'))));
  const temporalFactor = w('E') * w('RL') * w('RC');
  const temporalScore = hasTemporal ? round1(baseScore * temporalFactor) : null;
  let environmentalScore: number | null = null;
  if (hasEnvironmental) {
    const adjustedImpact = Math.min(10, 10.41 * (1 - (1 - w('C') * w('CR')) * (1 - w('I') * w('IR')) * (1 - w('A') * w('AR'))));
    const adjustedTemporal = round1(base(adjustedImpact) * temporalFactor);
    environmentalScore = round1((adjustedTemporal + (10 - adjustedTemporal) * w('CDP')) * w('TD'));
  }
  return {
    version: '2.0',
    vector,
    baseScore,
    temporalScore,
    environmentalScore,
    score: environmentalScore ?? temporalScore ?? baseScore,
  };
}

/** Rounds to one decimal, half up, absorbing binary floating-point noise. */
function round1(x: number): number {
  return Math.round(x * 10 + 1e-9) / 10;
}
