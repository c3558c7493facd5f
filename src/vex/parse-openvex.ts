import type { VexStatus } from '../matcher/finding.ts';
import { arrayAt, isJsonObject, objectAt, optionalString, optionalTime, requiredString, type JsonObject } from './json-read.ts';
import { vulnerabilityId, type ParsedVexDocument, type ParsedVexStatement, type SkippedStatement, type VexLimits } from './parsed-vex.ts';
import { productIdentity, type ProductIdentity } from './product-identity.ts';
import { OPENVEX_JUSTIFICATIONS } from './vex-vocabulary.ts';
import { pointerAt, VexDocumentError } from './vex-document-error.ts';

const STATUSES: readonly VexStatus[] = ['not_affected', 'affected', 'fixed', 'under_investigation'];

/** Whether a parsed JSON value looks like an OpenVEX document (its `@context`). */
export function isOpenVex(doc: unknown): boolean {
  return isJsonObject(doc) && typeof doc['@context'] === 'string' && doc['@context'].startsWith('https://openvex.dev/ns');
}

/**
 * Reads an OpenVEX document (v0.0.x and v0.2.x): `@context`, `@id`, `author`, `timestamp` and a
 * non-empty `statements` list. Each statement needs a vulnerability (`{name, @id, aliases}` or,
 * in early versions, a string), a known `status`, and for `not_affected` a known `justification`
 * or an `impact_statement` (as the specification requires). Products are objects with `@id`,
 * `identifiers.purl` and `hashes`, or (early versions) strings; their `subcomponents` (or the
 * statement's) name the packages inside an image product. Every (statement, product,
 * subcomponent) Lookout can match becomes one statement; others are listed as skipped.
 * Anything malformed is a {@link VexDocumentError} with its JSON pointer.
 */
export function parseOpenVex(doc: unknown, limits: VexLimits): ParsedVexDocument {
  const root = objectAt(doc, '', 'an OpenVEX document (a JSON object)');
  const context = requiredString(root, '@context', '');
  if (!context.startsWith('https://openvex.dev/ns')) throw new VexDocumentError('@context must be an https://openvex.dev/ns URL', { pointer: '/@context' });
  const documentId = optionalString(root, '@id', '', 2048);
  const author = optionalString(root, 'author', '', 512);
  const issuedAt = optionalTime(root, 'timestamp', '');
  const version = root.version === undefined || root.version === null ? null : String(root.version).slice(0, 64);
  const list = arrayAt(root.statements, '/statements', { what: 'a list of statements', min: 1 });

  const statements: ParsedVexStatement[] = [];
  const skipped: SkippedStatement[] = [];
  list.forEach((raw, i) => {
    const at = pointerAt('/statements', i);
    const s = objectAt(raw, at, 'a statement object');
    const { vulnerability, aliases } = readVulnerability(s, at);
    const statusText = requiredString(s, 'status', at, 64);
    if (!STATUSES.includes(statusText as VexStatus)) {
      throw new VexDocumentError(`unknown status ${JSON.stringify(statusText)} (one of ${STATUSES.join(', ')})`, { pointer: pointerAt(at, 'status') });
    }
    const status = statusText as VexStatus;
    const justification = optionalString(s, 'justification', at, 128);
    if (justification !== null && !OPENVEX_JUSTIFICATIONS.includes(justification)) {
      throw new VexDocumentError(`unknown justification ${JSON.stringify(justification)} (one of ${OPENVEX_JUSTIFICATIONS.join(', ')})`, { pointer: pointerAt(at, 'justification') });
    }
    const impactStatement = optionalString(s, 'impact_statement', at);
    const actionStatement = optionalString(s, 'action_statement', at);
    if (status === 'not_affected' && justification === null && impactStatement === null) {
      throw new VexDocumentError('a not_affected statement needs a justification or an impact_statement', { pointer: at });
    }
    const statementSubs = s.subcomponents === undefined ? [] : arrayAt(s.subcomponents, pointerAt(at, 'subcomponents')).map((c, k) => component(c, pointerAt(pointerAt(at, 'subcomponents'), k)));
    const products = arrayAt(s.products, pointerAt(at, 'products'), { what: 'a list of products', min: 1 });
    products.forEach((p, j) => {
      const pAt = pointerAt(pointerAt(at, 'products'), j);
      const product = component(p, pAt);
      const subs = isJsonObject(p) && p.subcomponents !== undefined
        ? arrayAt(p.subcomponents, pointerAt(pAt, 'subcomponents')).map((c, k) => component(c, pointerAt(pointerAt(pAt, 'subcomponents'), k)))
        : statementSubs;
      const base = { vulnerability, aliases, status, justification, impactStatement, actionStatement };
      const add = (position: string, imageDigest: string | null, packagePurl: string | null) => {
        statements.push({ position, ...base, imageDigest, packagePurl });
        if (statements.length > limits.maxStatements) throw new VexDocumentError(`more than ${limits.maxStatements} statements (statement × product); split the document`, { pointer: position }, { code: 'vex_too_large' });
      };
      if (product.identity.kind === 'other') {
        skipped.push({ position: pAt, reason: product.identity.reason });
        return;
      }
      if (product.identity.kind === 'package') {
        if (subs.length === 0) add(pAt, null, product.identity.purl);
        for (const sub of subs) {
          if (sub.identity.kind === 'package') add(sub.position, null, sub.identity.purl);
          else skipped.push({ position: sub.position, reason: sub.identity.kind === 'other' ? sub.identity.reason : 'an image inside a package' });
        }
        return;
      }
      const image = product.identity.digest;
      if (subs.length === 0) add(pAt, image, null);
      for (const sub of subs) {
        if (sub.identity.kind === 'package') add(sub.position, image, sub.identity.purl);
        else skipped.push({ position: sub.position, reason: sub.identity.kind === 'other' ? sub.identity.reason : 'an image inside an image' });
      }
    });
  });
  return { format: 'openvex', documentId, version, author, issuedAt, statements, skipped };
}

function readVulnerability(s: JsonObject, at: string): { vulnerability: string; aliases: string[] } {
  const v = s.vulnerability;
  const vAt = pointerAt(at, 'vulnerability');
  if (typeof v === 'string') {
    const id = vulnerabilityId(v);
    if (id === null) throw new VexDocumentError(`${JSON.stringify(v.slice(0, 80))} is not a vulnerability id`, { pointer: vAt });
    return { vulnerability: id, aliases: [] };
  }
  const o = objectAt(v, vAt, 'a vulnerability ({"name": "CVE-…"})');
  const name = optionalString(o, 'name', vAt, 256);
  const iri = optionalString(o, '@id', vAt, 2048);
  const id = vulnerabilityId(name) ?? vulnerabilityId(iri?.split(/[/#=]/).pop());
  if (id === null) throw new VexDocumentError(name === null ? 'vulnerability.name is required' : `${JSON.stringify(name.slice(0, 80))} is not a vulnerability id`, { pointer: name === null ? vAt : pointerAt(vAt, 'name') });
  const aliases = o.aliases === undefined ? [] : arrayAt(o.aliases, pointerAt(vAt, 'aliases'), { max: 256 }).map((a, k) => {
    if (typeof a !== 'string') throw new VexDocumentError('expected a string', { pointer: pointerAt(pointerAt(vAt, 'aliases'), k) });
    return vulnerabilityId(a);
  });
  return { vulnerability: id, aliases: [...new Set(aliases.filter((a): a is string => a !== null && a !== id))] };
}

interface Component {
  position: string;
  identity: ProductIdentity;
}

/** A product or subcomponent: a string (early OpenVEX) or `{@id, identifiers: {purl}, hashes}`. */
function component(raw: unknown, at: string): Component {
  if (typeof raw === 'string') return { position: at, identity: productIdentity(raw, at) };
  const o = objectAt(raw, at, 'a product ({"@id": …}) or a string');
  const identifiers = o.identifiers === undefined ? {} : objectAt(o.identifiers, pointerAt(at, 'identifiers'));
  const purl = optionalString(identifiers, 'purl', pointerAt(at, 'identifiers'), 4096);
  const id = optionalString(o, '@id', at, 4096);
  const hashes: Array<{ alg: string; value: string }> = [];
  if (o.hashes !== undefined) {
    const h = objectAt(o.hashes, pointerAt(at, 'hashes'));
    for (const [alg, value] of Object.entries(h)) if (typeof value === 'string') hashes.push({ alg, value });
  }
  const text = purl ?? id;
  if (text === null) {
    if (hashes.length === 0) throw new VexDocumentError('a product needs an @id, identifiers.purl or hashes', { pointer: at });
    return { position: at, identity: productIdentity('', at, hashes) };
  }
  const identity = productIdentity(text, purl !== null ? pointerAt(pointerAt(at, 'identifiers'), 'purl') : pointerAt(at, '@id'), hashes);
  // An IRI @id with a purl among the identifiers: the purl decides (done above); a bare IRI with hashes: the hashes.
  return { position: at, identity };
}
