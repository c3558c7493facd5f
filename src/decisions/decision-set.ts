import type { ParsedVexStatement } from '../vex/parsed-vex.ts';
import type { PurlRelease } from '../vex/package-purl-match.ts';

/** Where an imported VEX document applies: everywhere, one image (digest), or repositories matching a glob. */
export type DecisionScope = { kind: 'global' } | { kind: 'image'; digest: string } | { kind: 'repository'; pattern: string };

/**
 * One stored VEX statement (one product of one statement of a document), as reports apply it:
 * `imageDigest` null applies to any image, `packagePurl` null to every package with the vulnerability.
 */
export interface VexDecision extends Omit<ParsedVexStatement, 'position'> {
  /** The statement row id. */
  id: number;
  /** The document it came from (`GET /api/v1/vex/{id}`). */
  documentId: string;
  format: 'openvex' | 'cyclonedx' | 'csaf';
  author: string | null;
  /** When the document was imported (later documents win ties). */
  importedAt: string;
  scope: DecisionScope;
}

/** One stored exception, as reports apply it. */
export interface ExceptionDecision {
  id: string;
  vulnerability: string;
  /** The package it is limited to (binary or source name), null for any. */
  packageName: string | null;
  /** Repositories it is limited to (a glob), null for any. */
  repositoryPattern: string | null;
  /** The image it is limited to, null for any. */
  imageDigest: string | null;
  reason: string;
  author: string;
  /** ISO 8601; the exception applies strictly before. */
  expiresAt: string;
}

/** The operator decisions that may apply to one image's findings. */
export interface DecisionSet {
  vex: VexDecision[];
  exceptions: ExceptionDecision[];
}

/** What decisions are checked against besides each finding's package. */
export interface DecisionImage {
  digest: string;
  /** Repositories the image (or an index holding it) is known under. */
  repositories: readonly string[];
  release: PurlRelease | null;
}

/** Nothing decided. */
export const NO_DECISIONS: DecisionSet = Object.freeze({ vex: [], exceptions: [] }) as unknown as DecisionSet;

/**
 * Loads the decisions that may apply to an image: VEX statements and live exceptions naming one
 * of `vulnerabilityIds` (the findings' ids and aliases). Implementations may return more than
 * applies (scope is checked again by `applyDecisions`), never less.
 */
export interface DecisionSource {
  /** The repositories an indexed image is known under (its own and those of indexes holding it). */
  repositoriesOf(manifestId: number): Promise<string[]>;
  forImage(vulnerabilityIds: readonly string[], now: Date): Promise<DecisionSet>;
}
