import type { VexStatus } from '../matcher/finding.ts';
import { arrayAt, isJsonObject, objectAt, optionalString, optionalTime, requiredString, type JsonObject } from './json-read.ts';
import { vulnerabilityId, type ParsedVexDocument, type ParsedVexStatement, type SkippedStatement, type VexLimits } from './parsed-vex.ts';
import { productIdentity, type ProductIdentity } from './product-identity.ts';
import { OPENVEX_JUSTIFICATIONS } from './vex-vocabulary.ts';
import { pointerAt, VexDocumentError } from './vex-document-error.ts';

/** CSAF `product_status` lists → VEX statuses (`first_fixed` and `recommended` count as fixed). */
const STATUS_LISTS: ReadonlyArray<[string, VexStatus]> = [
  ['known_not_affected', 'not_affected'],
  ['fixed', 'fixed'],
  ['first_fixed', 'fixed'],
  ['known_affected', 'affected'],
  ['first_affected', 'affected'],
  ['last_affected', 'affected'],
  ['under_investigation', 'under_investigation'],
];

const MAX_PRODUCTS = 200_000;

/** Whether a parsed JSON value looks like a CSAF document. */
export function isCsaf(doc: unknown): boolean {
  return isJsonObject(doc) && isJsonObject(doc.document) && typeof doc.document.csaf_version === 'string';
}

interface Product {
  /** Where the product is defined. */
  position: string;
  identity: ProductIdentity;
  /** For a relationship product: the platform it is installed on. */
  platform?: ProductIdentity;
}

/**
 * Reads a CSAF 2.0 VEX document (`document.category` `csaf_vex`): the product tree (branches,
 * full product names and relationships, each identified by its `product_identification_helper`
 * purl; a relationship's platform with an OCI purl makes its component a package in that image),
 * product groups, then per vulnerability (`cve`, or the first of `ids`) each product of its
 * `product_status` lists: `known_not_affected` (with the flag label as justification and the
 * impact threat as impact statement), `fixed`/`first_fixed`, `known_affected` (with the
 * remediations as action statement), `under_investigation`. A product id that the tree does not
 * define, or anything malformed, is a {@link VexDocumentError} with its JSON pointer; products
 * without a purl (a CPE or a name only) are listed as skipped.
 */
export function parseCsafVex(doc: unknown, limits: VexLimits): ParsedVexDocument {
  const root = objectAt(doc, '', 'a CSAF document (a JSON object)');
  const document = objectAt(root.document, '/document');
  const csafVersion = requiredString(document, 'csaf_version', '/document', 16);
  if (csafVersion !== '2.0') throw new VexDocumentError(`csaf_version ${JSON.stringify(csafVersion)} is not supported (2.0)`, { pointer: '/document/csaf_version' });
  const category = requiredString(document, 'category', '/document', 128);
  if (category !== 'csaf_vex') throw new VexDocumentError(`category ${JSON.stringify(category)} is not a VEX (csaf_vex)`, { pointer: '/document/category' });
  const tracking = objectAt(document.tracking, '/document/tracking');
  const documentId = requiredString(tracking, 'id', '/document/tracking', 256);
  const version = optionalString(tracking, 'version', '/document/tracking', 64);
  const issuedAt = optionalTime(tracking, 'current_release_date', '/document/tracking');
  const publisher = document.publisher === undefined ? {} : objectAt(document.publisher, '/document/publisher');
  const author = optionalString(publisher, 'name', '/document/publisher', 512);

  const products = new Map<string, Product>();
  let count = 0;
  const define = (p: unknown, at: string): void => {
    const o = objectAt(p, at, 'a product object');
    const id = requiredString(o, 'product_id', at, 1024);
    if (++count > MAX_PRODUCTS) throw new VexDocumentError(`more than ${MAX_PRODUCTS} products`, { pointer: at }, { code: 'vex_too_large' });
    products.set(id, { position: at, identity: helperIdentity(o, at) });
  };
  const tree = root.product_tree === undefined ? {} : objectAt(root.product_tree, '/product_tree');
  const walk = (branches: unknown, at: string, depth: number): void => {
    if (branches === undefined) return;
    if (depth > 32) throw new VexDocumentError('branches nested deeper than 32 levels', { pointer: at });
    arrayAt(branches, at).forEach((b, i) => {
      const bAt = pointerAt(at, i);
      const o = objectAt(b, bAt, 'a branch object');
      if (o.product !== undefined) define(o.product, pointerAt(bAt, 'product'));
      walk(o.branches, pointerAt(bAt, 'branches'), depth + 1);
    });
  };
  walk(tree.branches, '/product_tree/branches', 0);
  if (tree.full_product_names !== undefined) arrayAt(tree.full_product_names, '/product_tree/full_product_names').forEach((p, i) => define(p, pointerAt('/product_tree/full_product_names', i)));
  const relationships: Array<{ id: string; component: string; platform: string; at: string }> = [];
  if (tree.relationships !== undefined) {
    arrayAt(tree.relationships, '/product_tree/relationships').forEach((r, i) => {
      const at = pointerAt('/product_tree/relationships', i);
      const o = objectAt(r, at, 'a relationship object');
      const full = objectAt(o.full_product_name, pointerAt(at, 'full_product_name'));
      const id = requiredString(full, 'product_id', pointerAt(at, 'full_product_name'), 1024);
      relationships.push({ id, component: requiredString(o, 'product_reference', at, 1024), platform: requiredString(o, 'relates_to_product_reference', at, 1024), at });
      if (++count > MAX_PRODUCTS) throw new VexDocumentError(`more than ${MAX_PRODUCTS} products`, { pointer: at }, { code: 'vex_too_large' });
      products.set(id, { position: at, identity: helperIdentity(full, pointerAt(at, 'full_product_name')) });
    });
  }
  for (const r of relationships) {
    const component = products.get(r.component);
    const platform = products.get(r.platform);
    if (component === undefined) throw new VexDocumentError(`product_reference ${JSON.stringify(r.component)} is not a product of the tree`, { pointer: pointerAt(r.at, 'product_reference') });
    if (platform === undefined) throw new VexDocumentError(`relates_to_product_reference ${JSON.stringify(r.platform)} is not a product of the tree`, { pointer: pointerAt(r.at, 'relates_to_product_reference') });
    const own = products.get(r.id)!;
    // The relationship's own helper, else its component's identity, installed on the platform.
    products.set(r.id, { position: r.at, identity: own.identity.kind === 'other' ? component.identity : own.identity, platform: platform.identity });
  }
  const groups = new Map<string, string[]>();
  if (tree.product_groups !== undefined) {
    arrayAt(tree.product_groups, '/product_tree/product_groups').forEach((g, i) => {
      const at = pointerAt('/product_tree/product_groups', i);
      const o = objectAt(g, at);
      groups.set(requiredString(o, 'group_id', at, 1024), idList(o.product_ids, pointerAt(at, 'product_ids'), products));
    });
  }

  const statements: ParsedVexStatement[] = [];
  const skipped: SkippedStatement[] = [];
  const vulnerabilities = arrayAt(root.vulnerabilities, '/vulnerabilities', { what: 'a list of vulnerabilities', min: 1 });
  vulnerabilities.forEach((raw, i) => {
    const at = pointerAt('/vulnerabilities', i);
    const v = objectAt(raw, at, 'a vulnerability object');
    const ids = v.ids === undefined ? [] : arrayAt(v.ids, pointerAt(at, 'ids')).map((x, k) => vulnerabilityId(objectAt(x, pointerAt(pointerAt(at, 'ids'), k)).text));
    const cve = optionalString(v, 'cve', at, 64);
    const vulnerability = vulnerabilityId(cve) ?? ids.find((x): x is string => x !== null) ?? null;
    if (vulnerability === null) throw new VexDocumentError('a vulnerability needs a cve or an id in ids', { pointer: at });
    const aliases = [...new Set(ids.filter((x): x is string => x !== null && x !== vulnerability))];
    const perProduct = (list: unknown, listAt: string, text: (o: JsonObject, oAt: string) => string | null): Map<string, string> => {
      const out = new Map<string, string>();
      if (list === undefined) return out;
      arrayAt(list, listAt).forEach((x, k) => {
        const xAt = pointerAt(listAt, k);
        const o = objectAt(x, xAt);
        const value = text(o, xAt);
        if (value === null) return;
        const targets = [
          ...(o.product_ids === undefined ? [] : idList(o.product_ids, pointerAt(xAt, 'product_ids'), products)),
          ...(o.group_ids === undefined ? [] : groupList(o.group_ids, pointerAt(xAt, 'group_ids'), groups)),
        ];
        for (const id of targets) if (!out.has(id)) out.set(id, value);
      });
      return out;
    };
    const justification = perProduct(v.flags, pointerAt(at, 'flags'), (o, oAt) => {
      const label = requiredString(o, 'label', oAt, 128);
      if (!OPENVEX_JUSTIFICATIONS.includes(label)) throw new VexDocumentError(`unknown flag label ${JSON.stringify(label)} (one of ${OPENVEX_JUSTIFICATIONS.join(', ')})`, { pointer: pointerAt(oAt, 'label') });
      return label;
    });
    const impact = perProduct(v.threats, pointerAt(at, 'threats'), (o, oAt) => (o.category === 'impact' ? requiredString(o, 'details', oAt) : null));
    const action = perProduct(v.remediations, pointerAt(at, 'remediations'), (o, oAt) => {
      const category = requiredString(o, 'category', oAt, 64);
      const details = optionalString(o, 'details', oAt);
      return `${category}${details ? `: ${details}` : ''}`;
    });
    const status = v.product_status === undefined ? {} : objectAt(v.product_status, pointerAt(at, 'product_status'));
    let any = false;
    for (const [list, vexStatus] of STATUS_LISTS) {
      if (status[list] === undefined) continue;
      const listAt = pointerAt(pointerAt(at, 'product_status'), list);
      const listed = arrayAt(status[list], listAt);
      listed.forEach((p, k) => {
        const pAt = pointerAt(listAt, k);
        if (typeof p !== 'string') throw new VexDocumentError('expected a product id', { pointer: pAt });
        const product = products.get(p);
        if (product === undefined) throw new VexDocumentError(`product ${JSON.stringify(p.slice(0, 120))} is not a product of the tree`, { pointer: pAt });
        any = true;
        const j = justification.get(p) ?? null;
        const imp = impact.get(p) ?? null;
        if (vexStatus === 'not_affected' && j === null && imp === null) {
          throw new VexDocumentError(`known_not_affected product ${JSON.stringify(p.slice(0, 120))} needs a flag or an impact threat (CSAF VEX profile)`, { pointer: pAt });
        }
        const identity = product.identity;
        if (identity.kind === 'other') {
          skipped.push({ position: pAt, reason: identity.reason });
          return;
        }
        const platformImage = product.platform?.kind === 'image' ? product.platform.digest : null;
        statements.push({
          position: pAt,
          vulnerability,
          aliases,
          status: vexStatus,
          justification: vexStatus === 'not_affected' ? j : null,
          impactStatement: vexStatus === 'not_affected' ? imp : null,
          actionStatement: vexStatus === 'affected' || vexStatus === 'under_investigation' ? (action.get(p) ?? null) : null,
          imageDigest: identity.kind === 'image' ? identity.digest : platformImage,
          packagePurl: identity.kind === 'package' ? identity.purl : null,
        });
        if (statements.length > limits.maxStatements) throw new VexDocumentError(`more than ${limits.maxStatements} statements (vulnerability × product); split the document`, { pointer: pAt }, { code: 'vex_too_large' });
      });
    }
    if (!any) throw new VexDocumentError('a VEX vulnerability needs a product_status with at least one product', { pointer: at });
  });
  return { format: 'csaf', documentId, version, author, issuedAt, statements, skipped };
}

function helperIdentity(o: JsonObject, at: string): ProductIdentity {
  const helper = o.product_identification_helper === undefined ? {} : objectAt(o.product_identification_helper, pointerAt(at, 'product_identification_helper'));
  const helperAt = pointerAt(at, 'product_identification_helper');
  const purl = optionalString(helper, 'purl', helperAt, 4096);
  const hashes: Array<{ alg: string; value: string }> = [];
  if (Array.isArray(helper.hashes)) {
    for (const h of helper.hashes) {
      if (!isJsonObject(h) || !Array.isArray(h.file_hashes)) continue;
      for (const f of h.file_hashes) if (isJsonObject(f) && typeof f.algorithm === 'string' && typeof f.value === 'string') hashes.push({ alg: f.algorithm, value: f.value });
    }
  }
  if (purl !== null) return productIdentity(purl, pointerAt(helperAt, 'purl'), hashes);
  if (hashes.length > 0) {
    const identity = productIdentity('', at, hashes);
    if (identity.kind === 'image') return identity;
  }
  const cpe = optionalString(helper, 'cpe', helperAt, 1024);
  return { kind: 'other', reason: cpe !== null ? 'a CPE names no package or image Lookout can match' : `product ${JSON.stringify(String(o.name ?? o.product_id ?? '').slice(0, 80))} has no purl` };
}

function idList(v: unknown, at: string, products: ReadonlyMap<string, Product>): string[] {
  return arrayAt(v, at).map((x, k) => {
    if (typeof x !== 'string') throw new VexDocumentError('expected a product id', { pointer: pointerAt(at, k) });
    if (!products.has(x)) throw new VexDocumentError(`product ${JSON.stringify(x.slice(0, 120))} is not a product of the tree`, { pointer: pointerAt(at, k) });
    return x;
  });
}

function groupList(v: unknown, at: string, groups: ReadonlyMap<string, string[]>): string[] {
  return arrayAt(v, at).flatMap((x, k) => {
    if (typeof x !== 'string' || !groups.has(x)) throw new VexDocumentError(`${JSON.stringify(String(x).slice(0, 120))} is not a product group of the tree`, { pointer: pointerAt(at, k) });
    return groups.get(x)!;
  });
}
