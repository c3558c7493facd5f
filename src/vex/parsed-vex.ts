import type { VexStatus } from '../matcher/finding.ts';

/** The VEX formats Lookout imports. */
export const VEX_FORMATS = ['openvex', 'cyclonedx', 'csaf'] as const;
export type VexFormat = (typeof VEX_FORMATS)[number];

/**
 * One statement of a VEX document about one product: a vulnerability, a status, and what it is
 * about — an image (by digest), a package (by purl), or a package in an image.
 */
export interface ParsedVexStatement {
  /** JSON pointer of the statement (and product) in the document. */
  position: string;
  /** The vulnerability id (`CVE-…`, `GHSA-…`), CVE ids upper-cased. */
  vulnerability: string;
  aliases: string[];
  status: VexStatus;
  /** The justification in the document's own vocabulary (OpenVEX, CycloneDX or CSAF flag label). */
  justification: string | null;
  impactStatement: string | null;
  actionStatement: string | null;
  imageDigest: string | null;
  packagePurl: string | null;
}

/** A statement (product) that was valid but names nothing Lookout can match, and why. */
export interface SkippedStatement {
  position: string;
  reason: string;
}

/** A VEX document read and checked: who issued it, and its statements. */
export interface ParsedVexDocument {
  format: VexFormat;
  /** The document's own id (OpenVEX `@id`, CycloneDX `serialNumber`, CSAF `tracking.id`), when it has one. */
  documentId: string | null;
  version: string | null;
  author: string | null;
  /** When the document says it was issued (ISO 8601), when it says. */
  issuedAt: string | null;
  statements: ParsedVexStatement[];
  /** Products left out (a CPE only, a purl type Lookout has no packages of, …). */
  skipped: SkippedStatement[];
}

/** Limits on a document a stranger may send. */
export interface VexLimits {
  /** Most (statement, product) pairs in one document. */
  maxStatements: number;
}

/** A vulnerability or advisory id as Lookout keeps them. */
export const VULNERABILITY_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** `id` trimmed, CVE ids upper-cased; null when it is not an advisory id (URLs, prose). */
export function vulnerabilityId(id: unknown): string | null {
  if (typeof id !== 'string') return null;
  const t = id.trim();
  if (!VULNERABILITY_ID.test(t)) return null;
  return /^cve-/i.test(t) ? t.toUpperCase() : t;
}
