import type { ImageReport, IndexReport } from '../matcher/image-report.ts';
import type { VexStatus } from '../matcher/finding.ts';
import { exportStatements, imagesOf, uuidUrn, type VexExportOptions } from './export-decisions.ts';
import { toOpenVexJustification } from './vex-vocabulary.ts';

/** An OpenVEX statement as written. */
export interface OpenVexStatement {
  vulnerability: { name: string; aliases?: string[] };
  timestamp: string;
  products: Array<{ '@id': string; identifiers: { purl: string }; hashes: Record<string, string>; subcomponents: Array<{ '@id': string; identifiers: { purl: string } }> }>;
  status: VexStatus;
  justification?: string;
  impact_statement?: string;
  action_statement?: string;
  status_notes?: string;
}

/** An OpenVEX document (v0.2.0). */
export interface OpenVexDocument {
  '@context': 'https://openvex.dev/ns/v0.2.0';
  '@id': string;
  author: string;
  role: string;
  timestamp: string;
  version: number;
  tooling: string;
  statements: OpenVexStatement[];
}

/**
 * The decisions of an image report (or an index's platform reports) as an OpenVEX v0.2.0
 * document: one statement per finding (see `exportStatements`), its product the image (OCI purl,
 * `sha-256` hash) with the package as subcomponent (its purl). A `not_affected` statement always
 * carries a justification (when one maps to OpenVEX's words) or an impact statement, as the
 * specification requires. Importing the document back applies the same decisions.
 */
export function renderOpenVex(report: ImageReport | IndexReport, options: VexExportOptions & { tool?: string } = {}): OpenVexDocument {
  const digest = report.kind === 'index' ? report.index.digest : report.image.digest;
  const statements: OpenVexStatement[] = exportStatements(report, options).map((s) => {
    const [algorithm, hex] = s.imageDigest.split(':') as [string, string];
    const statement: OpenVexStatement = {
      vulnerability: { name: s.finding.vulnerability, ...(s.finding.aliases.length > 0 ? { aliases: [...s.finding.aliases] } : {}) },
      timestamp: report.generatedAt,
      products: [{ '@id': s.imagePurl, identifiers: { purl: s.imagePurl }, hashes: { [algorithm === 'sha512' ? 'sha-512' : 'sha-256']: hex }, subcomponents: [{ '@id': s.packagePurl, identifiers: { purl: s.packagePurl } }] }],
      status: s.status,
    };
    if (s.status === 'not_affected') {
      const justification = toOpenVexJustification(s.justification);
      if (justification !== null) statement.justification = justification;
      if (s.impactStatement !== null || justification === null) statement.impact_statement = s.impactStatement ?? 'Not affected.';
    }
    if (s.status === 'under_investigation' && s.impactStatement) statement.status_notes = s.impactStatement;
    if ((s.status === 'affected' || s.status === 'fixed' || s.status === 'under_investigation') && s.actionStatement) statement.action_statement = s.actionStatement;
    return statement;
  });
  return {
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': uuidUrn(`openvex\u0000${digest}\u0000${report.vulnerabilityDatabase.generation}\u0000${imagesOf(report).map((m) => m.generatedAt).join(',')}`),
    author: 'Lookout',
    role: 'Document Creator',
    timestamp: report.generatedAt,
    version: 1,
    tooling: options.tool ?? 'lookout',
    statements,
  };
}
