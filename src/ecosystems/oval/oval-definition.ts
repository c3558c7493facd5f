import type { XmlElement } from './xml-element.ts';

/** One field of an OVAL object or state (`<evr datatype="evr_string" operation="less than">0:1.2-3</evr>`). */
export interface OvalField {
  /** The trimmed text (empty when the field only carries attributes, e.g. a `var_ref`). */
  value: string;
  operation: string | null;
  datatype: string | null;
  /** The variable the value comes from, when `var_ref` is set. */
  varRef: string | null;
}

/** An OVAL object (what to look at: a package name, a file), with its `name` resolved. */
export interface OvalObject {
  id: string;
  /** Element local name (`rpminfo_object`, `dpkginfo_object`, `textfilecontent54_object`, …). */
  type: string;
  comment: string | null;
  fields: Readonly<Record<string, OvalField>>;
  /**
   * The package names the object stands for: the `name` field's text, or the values of the
   * constant variable it refers to (Ubuntu lists a source package's binaries that way).
   */
  names: readonly string[];
}

/** An OVAL state (what to expect: `evr less than …`, a signature key id, an arch pattern). */
export interface OvalState {
  id: string;
  type: string;
  comment: string | null;
  fields: Readonly<Record<string, OvalField>>;
}

/** An OVAL test with its object and states looked up. */
export interface OvalTest {
  id: string;
  /** Element local name (`rpminfo_test`, `dpkginfo_test`, `rpmverifyfile_test`, `textfilecontent54_test`, `family_test`, …). */
  type: string;
  comment: string | null;
  check: string | null;
  checkExistence: string | null;
  /** Null when the feed refers to an object it does not define. */
  object: OvalObject | null;
  /** States found; references to undefined states are left out. */
  states: readonly OvalState[];
}

/** `<criterion>`: one test, resolved (null when the feed does not define it). */
export interface OvalCriterion {
  kind: 'criterion';
  testRef: string;
  comment: string | null;
  negate: boolean;
  test: OvalTest | null;
}

/** `<extend_definition>`: a reference to another definition (release checks). */
export interface OvalExtendDefinition {
  kind: 'extend_definition';
  definitionRef: string;
  comment: string | null;
  negate: boolean;
  applicabilityCheck: boolean;
}

/** `<criteria>`: children combined with `operator`. */
export interface OvalCriteria {
  kind: 'criteria';
  operator: 'AND' | 'OR' | 'ONE' | 'XOR';
  negate: boolean;
  comment: string | null;
  children: OvalCriteriaNode[];
}

export type OvalCriteriaNode = OvalCriteria | OvalCriterion | OvalExtendDefinition;

/** A `<reference>` of a definition's metadata. */
export interface OvalReference {
  source: string | null;
  refId: string | null;
  refUrl: string | null;
}

/**
 * One OVAL definition, metadata typed where OVAL defines it and the vendor's `<advisory>` kept as
 * a small element tree (each vendor puts different things there), criteria resolved against the
 * document's tests, objects, states and variables.
 */
export interface OvalDefinition {
  id: string;
  /** `vulnerability`, `patch`, `inventory`, … */
  class: string;
  version: string | null;
  deprecated: boolean;
  title: string;
  description: string;
  family: string | null;
  platforms: string[];
  references: OvalReference[];
  advisory: XmlElement | null;
  notes: string[];
  criteria: OvalCriteria | null;
}
