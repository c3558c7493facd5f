import { InvalidCvssError } from './invalid-cvss-error.ts';
import { MAX_VECTOR_LENGTH, parseMetrics, requireMetrics } from './parse-metrics.ts';

/** The score of a CVSS v4.0 vector (base, threat and environmental metrics together: CVSS-BTE). */
export interface CvssV4Scores {
  version: '4.0';
  vector: string;
  score: number;
  /** The MacroVector (six EQ levels) the vector falls in, e.g. `"001100"`. */
  macroVector: string;
}

const METRICS: Readonly<Record<string, readonly string[]>> = {
  AV: ['N', 'A', 'L', 'P'],
  AC: ['L', 'H'],
  AT: ['N', 'P'],
  PR: ['N', 'L', 'H'],
  UI: ['N', 'P', 'A'],
  VC: ['H', 'L', 'N'],
  VI: ['H', 'L', 'N'],
  VA: ['H', 'L', 'N'],
  SC: ['H', 'L', 'N'],
  SI: ['H', 'L', 'N'],
  SA: ['H', 'L', 'N'],
  E: ['X', 'A', 'P', 'U'],
  CR: ['X', 'H', 'M', 'L'],
  IR: ['X', 'H', 'M', 'L'],
  AR: ['X', 'H', 'M', 'L'],
  MAV: ['X', 'N', 'A', 'L', 'P'],
  MAC: ['X', 'L', 'H'],
  MAT: ['X', 'N', 'P'],
  MPR: ['X', 'N', 'L', 'H'],
  MUI: ['X', 'N', 'P', 'A'],
  MVC: ['X', 'H', 'L', 'N'],
  MVI: ['X', 'H', 'L', 'N'],
  MVA: ['X', 'H', 'L', 'N'],
  MSC: ['X', 'H', 'L', 'N'],
  MSI: ['X', 'S', 'H', 'L', 'N'],
  MSA: ['X', 'S', 'H', 'L', 'N'],
  S: ['X', 'N', 'P'],
  AU: ['X', 'N', 'Y'],
  R: ['X', 'A', 'U', 'I'],
  V: ['X', 'D', 'C'],
  RE: ['X', 'L', 'M', 'H'],
  U: ['X', 'Clear', 'Green', 'Amber', 'Red'],
};
const BASE = ['AV', 'AC', 'AT', 'PR', 'UI', 'VC', 'VI', 'VA', 'SC', 'SI', 'SA'];

/**
 * Scores of the 270 MacroVectors, from the CVSS v4.0 specification's reference data (FIRST). Each
 * row is one EQ1·EQ2·EQ3 prefix; its 18 cells are EQ4 (0–2) × EQ5 (0–2) × EQ6 (0–1) in that
 * order, `-` where the combination does not exist (EQ3 = 2 only pairs with EQ6 = 1).
 */
const MACRO_SCORES: Readonly<Record<string, string>> = {
  '000': '10 9.9 9.8 9.5 9.5 9.2 10 9.6 9.3 8.7 9.1 8.1 9.3 9 8.9 8 8.1 6.8',
  '001': '9.8 9.5 9.5 9.2 9 8.4 9.3 9.2 8.9 8.1 8.1 6.5 8.8 8 7.8 7 6.9 4.8',
  '002': '- 9.2 - 8.2 - 7.2 - 7.9 - 6.9 - 5 - 6.9 - 5.5 - 2.7',
  '010': '9.9 9.7 9.5 9.2 9.2 8.5 9.5 9.1 9 8.3 8.4 7.1 9.2 8.1 8.2 7.1 7.2 5.3',
  '011': '9.5 9.3 9.2 8.5 8.5 7.3 9.2 8.2 8 7.2 7 5.9 8.4 7 7.1 5.2 5 3',
  '012': '- 8.6 - 7.5 - 5.2 - 7.1 - 5.2 - 2.9 - 6.3 - 2.9 - 1.7',
  '100': '9.8 9.5 9.4 8.7 9.1 8.1 9.4 8.9 8.6 7.4 7.7 6.4 8.7 7.5 7.4 6.3 6.3 4.9',
  '101': '9.4 8.9 8.8 7.7 7.6 6.7 8.6 7.6 7.4 5.8 5.9 5 7.2 5.7 5.7 5.2 5.2 2.5',
  '102': '- 8.3 - 7 - 5.4 - 6.5 - 5.8 - 2.6 - 5.3 - 2.1 - 1.3',
  '110': '9.5 9 8.8 7.6 7.6 7 9 7.7 7.5 6.2 6.1 5.3 7.7 6.6 6.8 5.9 5.2 3',
  '111': '8.9 7.8 7.6 6.7 6.2 5.8 7.4 5.9 5.7 5.7 4.7 2.3 6.1 5.2 5.7 2.9 2.4 1.6',
  '112': '- 7.1 - 5.9 - 3 - 5.8 - 2.6 - 1.5 - 2.3 - 1.3 - 0.6',
  '200': '9.3 8.7 8.6 7.2 7.5 5.8 8.6 7.4 7.4 6.1 5.6 3.4 7 5.4 5.2 4 4 2.2',
  '201': '8.5 7.5 7.4 5.5 6.2 5.1 7.2 5.7 5.5 4.1 4.6 1.9 5.3 3.6 3.4 1.9 1.9 0.8',
  '202': '- 6.4 - 5.1 - 2 - 4.7 - 2.1 - 1.1 - 2.4 - 0.9 - 0.4',
  '210': '8.8 7.5 7.3 5.3 6 5 7.3 5.5 5.9 4 4.1 2 5.4 4.3 4.5 2.2 2 1.1',
  '211': '7.5 5.5 5.8 4.5 4 2.1 6.1 5.1 4.8 1.8 2 0.9 4.6 1.8 1.7 0.7 0.8 0.2',
  '212': '- 5.3 - 2.4 - 1.4 - 2.4 - 1.2 - 0.5 - 1 - 0.3 - 0.1',
};

function macroScore(macro: string): number | undefined {
  if (!/^[0-2][01][0-2][0-2][0-2][01]$/.test(macro)) return undefined;
  const row = MACRO_SCORES[macro.slice(0, 3)];
  if (row === undefined) return undefined;
  const cell = row.split(' ')[Number(macro[3]) * 6 + Number(macro[4]) * 2 + Number(macro[5])];
  return cell === undefined || cell === '-' ? undefined : Number(cell);
}

/** The highest-severity vectors of each EQ level (specification reference data), as metric maps. */
const MAX_VECTORS = {
  eq1: [['AV:N/PR:N/UI:N'], ['AV:A/PR:N/UI:N', 'AV:N/PR:L/UI:N', 'AV:N/PR:N/UI:P'], ['AV:P/PR:N/UI:N', 'AV:A/PR:L/UI:P']],
  eq2: [['AC:L/AT:N'], ['AC:H/AT:N', 'AC:L/AT:P']],
  eq3eq6: [
    [['VC:H/VI:H/VA:H/CR:H/IR:H/AR:H'], ['VC:H/VI:H/VA:L/CR:M/IR:M/AR:H', 'VC:H/VI:H/VA:H/CR:M/IR:M/AR:M']],
    [
      ['VC:L/VI:H/VA:H/CR:H/IR:H/AR:H', 'VC:H/VI:L/VA:H/CR:H/IR:H/AR:H'],
      [
        'VC:L/VI:H/VA:L/CR:H/IR:M/AR:H',
        'VC:L/VI:H/VA:H/CR:H/IR:M/AR:M',
        'VC:H/VI:L/VA:H/CR:M/IR:H/AR:M',
        'VC:H/VI:L/VA:L/CR:M/IR:H/AR:H',
        'VC:L/VI:L/VA:H/CR:H/IR:H/AR:M',
      ],
    ],
    [[], ['VC:L/VI:L/VA:L/CR:H/IR:H/AR:H']],
  ],
  eq4: [['SC:H/SI:S/SA:S'], ['SC:H/SI:H/SA:H'], ['SC:L/SI:L/SA:L']],
} as const;

/** Depth of each EQ level in severity-distance steps (specification reference data). */
const MAX_DEPTH = {
  eq1: [1, 4, 5],
  eq2: [1, 2],
  eq3eq6: [[7, 6], [8, 8], [NaN, 10]],
  eq4: [6, 5, 4],
} as const;

/** Severity level of each metric value: larger is less severe, in tenths. */
const LEVELS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  AV: { N: 0, A: 1, L: 2, P: 3 },
  PR: { N: 0, L: 1, H: 2 },
  UI: { N: 0, P: 1, A: 2 },
  AC: { L: 0, H: 1 },
  AT: { N: 0, P: 1 },
  VC: { H: 0, L: 1, N: 2 },
  VI: { H: 0, L: 1, N: 2 },
  VA: { H: 0, L: 1, N: 2 },
  SC: { H: 1, L: 2, N: 3 },
  SI: { S: 0, H: 1, L: 2, N: 3 },
  SA: { S: 0, H: 1, L: 2, N: 3 },
  CR: { H: 0, M: 1, L: 2 },
  IR: { H: 0, M: 1, L: 2 },
  AR: { H: 0, M: 1, L: 2 },
};

function toMap(parts: string): Map<string, string> {
  return new Map(parts.split('/').map((p) => p.split(':') as [string, string]));
}

/**
 * Parses and scores a CVSS v4.0 vector (`CVSS:4.0/AV:N/…`): the eleven base metrics, then optional
 * threat, environmental and supplemental metrics, in the specification's order, no duplicates.
 * The score follows the specification's MacroVector interpolation (as FIRST's reference calculator
 * does). Throws {@link InvalidCvssError} for anything else.
 */
export function scoreCvssV4(vector: string): CvssV4Scores {
  if (vector.length > MAX_VECTOR_LENGTH) throw new InvalidCvssError(vector, 'too long');
  if (!vector.startsWith('CVSS:4.0/')) throw new InvalidCvssError(vector, 'does not start with CVSS:4.0/');
  const selected = parseMetrics(vector, vector.slice('CVSS:4.0/'.length), METRICS, true);
  requireMetrics(vector, selected, BASE, 'base');

  /** The effective value of a metric: modified metrics override base ones; X threat/requirements take the worst case. */
  const m = (name: string): string => {
    const value = selected.get(name) ?? 'X';
    if (name === 'E' && value === 'X') return 'A';
    if ((name === 'CR' || name === 'IR' || name === 'AR') && value === 'X') return 'H';
    const modified = selected.get(`M${name}`);
    return modified !== undefined && modified !== 'X' ? modified : value;
  };

  const eq1 = m('AV') === 'N' && m('PR') === 'N' && m('UI') === 'N' ? 0 : (m('AV') === 'N' || m('PR') === 'N' || m('UI') === 'N') && m('AV') !== 'P' ? 1 : 2;
  const eq2 = m('AC') === 'L' && m('AT') === 'N' ? 0 : 1;
  const eq3 = m('VC') === 'H' && m('VI') === 'H' ? 0 : m('VC') === 'H' || m('VI') === 'H' || m('VA') === 'H' ? 1 : 2;
  const eq4 = m('MSI') === 'S' || m('MSA') === 'S' ? 0 : m('SC') === 'H' || m('SI') === 'H' || m('SA') === 'H' ? 1 : 2;
  const eq5 = m('E') === 'A' ? 0 : m('E') === 'P' ? 1 : 2;
  const eq6 = (m('CR') === 'H' && m('VC') === 'H') || (m('IR') === 'H' && m('VI') === 'H') || (m('AR') === 'H' && m('VA') === 'H') ? 0 : 1;
  const macroVector = `${eq1}${eq2}${eq3}${eq4}${eq5}${eq6}`;

  if (['VC', 'VI', 'VA', 'SC', 'SI', 'SA'].every((n) => m(n) === 'N')) return { version: '4.0', vector, score: 0, macroVector };
  const value = macroScore(macroVector);
  if (value === undefined) throw new InvalidCvssError(vector, `no score for MacroVector ${macroVector}`);

  const at = (e1: number, e2: number, e3: number, e4: number, e5: number, e6: number): number | undefined =>
    macroScore(`${e1}${e2}${e3}${e4}${e5}${e6}`);
  // The next lower MacroVector along each EQ (undefined when there is none).
  const lowerEq1 = at(eq1 + 1, eq2, eq3, eq4, eq5, eq6);
  const lowerEq2 = at(eq1, eq2 + 1, eq3, eq4, eq5, eq6);
  let lowerEq3Eq6: number | undefined;
  if (eq3 === 0 && eq6 === 0) {
    const left = at(eq1, eq2, eq3, eq4, eq5, eq6 + 1);
    const right = at(eq1, eq2, eq3 + 1, eq4, eq5, eq6);
    // the specification takes the higher of the two paths; a missing right one counts as absent
    lowerEq3Eq6 = left !== undefined && right !== undefined && left > right ? left : right;
  } else if (eq3 === 1 && eq6 === 0) {
    lowerEq3Eq6 = at(eq1, eq2, eq3, eq4, eq5, eq6 + 1);
  } else if (eq6 === 1 && eq3 < 2) {
    lowerEq3Eq6 = at(eq1, eq2, eq3 + 1, eq4, eq5, eq6);
  } else {
    lowerEq3Eq6 = at(eq1, eq2, eq3 + 1, eq4, eq5, eq6 + 1);
  }
  const lowerEq4 = at(eq1, eq2, eq3, eq4 + 1, eq5, eq6);
  const lowerEq5 = at(eq1, eq2, eq3, eq4, eq5 + 1, eq6);

  // Severity distance of the vector from the first highest-severity vector of its MacroVector that it does not exceed.
  const names = Object.keys(LEVELS);
  const distance = new Map<string, number>();
  const candidates: Map<string, string>[] = [];
  for (const a of MAX_VECTORS.eq1[eq1]!)
    for (const b of MAX_VECTORS.eq2[eq2]!)
      for (const c of MAX_VECTORS.eq3eq6[eq3]![eq6]!)
        for (const d of MAX_VECTORS.eq4[eq4]!) candidates.push(toMap(`${a}/${b}/${c}/${d}`));
  for (const max of candidates) {
    for (const name of names) distance.set(name, LEVELS[name]![m(name)]! - LEVELS[name]![max.get(name)!]!);
    if (names.every((name) => distance.get(name)! >= 0)) break;
  }
  const sum = (...ns: string[]): number => ns.reduce((acc, n) => acc + distance.get(n)!, 0) / 10;

  const parts: Array<[lower: number | undefined, current: number, depth: number]> = [
    [lowerEq1, sum('AV', 'PR', 'UI'), MAX_DEPTH.eq1[eq1]!],
    [lowerEq2, sum('AC', 'AT'), MAX_DEPTH.eq2[eq2]!],
    [lowerEq3Eq6, sum('VC', 'VI', 'VA', 'CR', 'IR', 'AR'), MAX_DEPTH.eq3eq6[eq3]![eq6]!],
    [lowerEq4, sum('SC', 'SI', 'SA'), MAX_DEPTH.eq4[eq4]!],
    [lowerEq5, 0, 1],
  ];
  let existing = 0;
  let total = 0;
  for (const [lower, current, depth] of parts) {
    if (lower === undefined) continue;
    existing += 1;
    total += (value - lower) * (current / (depth * 0.1));
  }
  const mean = existing === 0 ? 0 : total / existing;
  const score = Math.min(10, Math.max(0, value - mean));
  return { version: '4.0', vector, score: Math.round(score * 10 + 1e-9) / 10, macroVector };
}
