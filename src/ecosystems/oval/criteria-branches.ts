import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import type { OvalCriteriaNode, OvalCriterion, OvalExtendDefinition } from './oval-definition.ts';

/** A leaf of a criteria tree. */
export type OvalAtom = OvalCriterion | OvalExtendDefinition;

/**
 * The criteria tree as alternatives (disjunctive normal form): each branch is a list of leaves
 * that must all hold. `AND` multiplies its children's branches, `OR` (and `ONE`, `XOR`, read as
 * `OR`) concatenates them. A negated leaf stays in its branch with `negate` set for the caller to
 * judge; a negated group is taken as always true (it only narrows where it applies), so records
 * come out broader, never missing. Throws when the expansion would exceed `maxBranches`.
 */
export function criteriaBranches(node: OvalCriteriaNode, maxBranches = 100_000): OvalAtom[][] {
  if (node.kind !== 'criteria') return [[node]];
  if (node.negate) return [[]];
  if (node.operator === 'AND') {
    let product: OvalAtom[][] = [[]];
    for (const child of node.children) {
      const branches = criteriaBranches(child, maxBranches);
      if (branches.length === 0) return [];
      if (product.length * branches.length > maxBranches) throw new FeedParseError(`OVAL criteria expand to more than ${maxBranches} branches`);
      const next: OvalAtom[][] = [];
      for (const left of product) for (const right of branches) next.push(left.concat(right));
      product = next;
    }
    return product;
  }
  const out: OvalAtom[][] = [];
  for (const child of node.children) {
    for (const branch of criteriaBranches(child, maxBranches)) {
      out.push(branch);
      if (out.length > maxBranches) throw new FeedParseError(`OVAL criteria expand to more than ${maxBranches} branches`);
    }
  }
  return out;
}

/** Every `<criterion>` of a tree, depth first, in document order. */
export function criteriaLeaves(node: OvalCriteriaNode | null): OvalCriterion[] {
  if (node === null) return [];
  if (node.kind === 'criterion') return [node];
  if (node.kind === 'extend_definition') return [];
  return node.children.flatMap(criteriaLeaves);
}
