import type { CvssScore, FindingState, Severity } from '../ecosystems/vulnerability-record.ts';
import type { PackageId } from './match-input.ts';

/** What became of one record checked against one package. */
export type CheckVerdict =
  /** The installed version is affected: the record is evidence of a finding. */
  | 'affected'
  /** The installed version is outside the affected range (fixed, backported, not yet vulnerable). */
  | 'not-in-range'
  /** The vendor states the package is not affected (VEX, a `0` fixed version). */
  | 'not-affected'
  /** Affected by this record, but a vendor's not-affected statement for the same vulnerability wins. */
  | 'superseded'
  /** Affected, but the finding is suppressed (kernel header package). */
  | 'suppressed'
  /** The record is for another release than the image's, or a distribution record for a language package. */
  | 'other-release'
  | 'other-ecosystem'
  /** The record names another package (by binary or source name, as its kind says). */
  | 'other-package'
  | 'other-arch'
  /** RPM modularity: the record's module stream is not the package's (or one of them has none). */
  | 'other-module'
  /** Scoped to a repository / product the image's packages do not come from. */
  | 'other-repository'
  /** The package is not matched against such records (third party, owned by an OS package). */
  | 'package-not-matched'
  /** A version could not be read in the record's version scheme. */
  | 'invalid-version';

/** One record checked against one package, with the versions compared and the outcome in words. */
export interface RecordCheck {
  recordId: number | string;
  updater: string;
  /** The record's advisory id (`CVE-…`, `RHSA-…`, `GHSA-…`). */
  vulnerability: string;
  verdict: CheckVerdict;
  /** Whether the record keyed the package by its binary or its source name. */
  matchedBy: 'binary' | 'source' | null;
  /** The installed version compared (the source version for source-keyed records). */
  installedVersion: string | null;
  /** The affected versions as the record states them (`< 1.2-3`, `>= 1.0, < 1.4 || >= 2.0, < 2.1`, `all versions`). */
  affectedVersions: string | null;
  /** The fixed version compared with, when the record has one. */
  fixedVersion: string | null;
  /** `installedVersion` compared with `fixedVersion`: -1 older, 0 equal, 1 newer; null when not compared. */
  comparison: -1 | 0 | 1 | null;
  state: FindingState;
  stateReason: string | null;
  /** The outcome in one sentence. */
  detail: string;
}

/** A CVSS vector with its score and who published it. */
export interface FindingCvss {
  version: CvssScore['version'];
  vector: string;
  score: number;
  /** The feed or vendor that gave it (`nvd`, `redhat`, an updater name). */
  source: string;
}

/** One vulnerability of one package: every record saying so merged into one. */
export interface Finding {
  /** `<package id>/<vulnerability>`: unique in a report. */
  key: string;
  packageId: PackageId;
  /** Package name, version and ecosystem, repeated for readers of the finding alone. */
  package: { name: string; version: string; ecosystem: string; sourceName: string | null; sourceVersion: string | null };
  /** The vulnerability: a CVE when any record names one, else the advisory id. */
  vulnerability: string;
  /** Every other id the records give it (advisories, GHSA, distribution ids), sorted. */
  aliases: string[];
  state: FindingState;
  /** The vendor's words for the state (`no-dsa: Minor issue`, `Will not fix`, …). */
  stateReason: string | null;
  /** The version that fixes it for this package, when one exists. */
  fixedVersion: string | null;
  /** The vendor's own rating, unchanged. */
  vendorSeverity: string | null;
  severity: Severity;
  /** Where `severity` came from: `vendor`, `cvss` (the advisory's score), `nvd`, or null (Unknown). */
  severitySource: string | null;
  cvss: { v2: FindingCvss | null; v3: FindingCvss | null; v4: FindingCvss | null };
  epss: { score: number; percentile: number; date: string } | null;
  /** In CISA's Known Exploited Vulnerabilities catalog. */
  kev: { dateAdded: string; dueDate: string | null; knownRansomware: boolean } | null;
  description: string | null;
  links: string[];
  publishedAt: string | null;
  /** The record the state, fix and severity were taken from. */
  source: { updater: string; recordId: number | string; distribution: string | null };
  /** Every record that said "affected", the chosen one first. */
  explain: RecordCheck[];
  /**
   * A VEX statement that applies without suppressing the finding (`affected` with its action
   * statement, `under_investigation`, which also sets `state`); absent when none applies.
   */
  vex?: FindingVex;
}

/** The VEX statuses (OpenVEX words; CycloneDX and CSAF statuses are mapped onto them). */
export type VexStatus = 'not_affected' | 'affected' | 'fixed' | 'under_investigation';

/** A VEX statement as a finding carries it. */
export interface FindingVex {
  /** The imported VEX document (`GET /api/v1/vex/{id}`). */
  id: string;
  status: VexStatus;
  justification: string | null;
  impactStatement: string | null;
  actionStatement: string | null;
}

/**
 * Why a finding is left out of the findings, the summary counts and notifications:
 * - `vex`: a VEX statement says the image is `not_affected` (with its justification and impact
 *   statement) or that the vulnerability is `fixed` in it;
 * - `exception`: an operator accepted it (reason, author) until `expires`.
 */
export interface Suppression {
  by: 'vex' | 'exception';
  /** The VEX document id or the exception id. */
  id: string;
  /** For VEX: `not_affected` or `fixed`; null for exceptions. */
  status: 'not_affected' | 'fixed' | null;
  /** The VEX justification (`vulnerable_code_not_present`, …), null for exceptions. */
  justification: string | null;
  /** The VEX impact statement, or the exception's reason. */
  reason: string | null;
  /** Who accepted it (exceptions) or the VEX document's author. */
  author: string | null;
  /** When an exception stops applying (ISO 8601); null for VEX. */
  expires: string | null;
}

/** A finding left out by an operator decision, with the decision. */
export type SuppressedFinding = Finding & { suppression: Suppression };
