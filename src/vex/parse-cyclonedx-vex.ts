import type { VexStatus } from '../matcher/finding.ts';
import { arrayAt, isJsonObject, objectAt, optionalString, optionalTime, requiredString, type JsonObject } from './json-read.ts';
import { vulnerabilityId, type ParsedVexDocument, type ParsedVexStatement, type SkippedStatement, type VexLimits } from './parsed-vex.ts';
import { productIdentity, type ProductIdentity } from './product-identity.ts';
import { CYCLONEDX_JUSTIFICATIONS } from './vex-vocabulary.ts';
import { pointerAt, VexDocumentError } from './vex-document-error.ts';

/** CycloneDX analysis states → VEX statuses. */
const STATE: Readonly<Record<string, VexStatus>> = {
  not_affected: 'not_affected',
  false_positive: 'not_affected',
  resolved: 'fixed',
  resolved_with_pedigree: 'fixed',
  exploitable: 'affected',
  in_triage: 'under_investigation',
};

const SPEC_VERSIONS = ['1.4', '1.5', '1.6', '1.7'];
const MAX_COMPONENTS = 100_000;

/** Whether a parsed JSON value looks like a CycloneDX BOM. */
export function isCycloneDx(doc: unknown): boolean {
  return isJsonObject(doc) && doc.bomFormat === 'CycloneDX';
}

/**
 * Reads a CycloneDX VEX (JSON, spec 1.4–1.7): a BOM whose `vulnerabilities` each carry an
 * `analysis.state` — `not_affected` and `false_positive` → not_affected (justification and
 * `detail` kept), `resolved[_with_pedigree]` → fixed, `exploitable` → affected (responses and
 * detail as the action statement), `in_triage` → under_investigation. Each `affects[].ref` is a
 * bom-ref of a component of the BOM (or of `metadata.component`), a BOM-Link to one (its
 * fragment), or a purl; components with an OCI purl (or a container with a digest version) are
 * images, others packages. A package is about the image it is nested in (a container
 * component's `components`), else the image the BOM describes (`metadata.component`), else any
 * image. Anything malformed is a {@link VexDocumentError} with its JSON pointer.
 */
export function parseCycloneDxVex(doc: unknown, limits: VexLimits): ParsedVexDocument {
  const root = objectAt(doc, '', 'a CycloneDX BOM (a JSON object)');
  if (root.bomFormat !== 'CycloneDX') throw new VexDocumentError('bomFormat must be "CycloneDX"', { pointer: '/bomFormat' });
  const specVersion = requiredString(root, 'specVersion', '', 16);
  if (!SPEC_VERSIONS.includes(specVersion)) throw new VexDocumentError(`specVersion ${JSON.stringify(specVersion)} is not supported (${SPEC_VERSIONS.join(', ')})`, { pointer: '/specVersion' });
  const documentId = optionalString(root, 'serialNumber', '', 256);
  const version = root.version === undefined ? null : String(root.version).slice(0, 64);
  const metadata = root.metadata === undefined ? {} : objectAt(root.metadata, '/metadata');
  const issuedAt = optionalTime(metadata, 'timestamp', '/metadata');
  const author = authorOf(metadata);

  // bom-ref → what the component names, and the image it is in (its nearest container ancestor, else the BOM's).
  const refs = new Map<string, { identity: ProductIdentity; image: string | null }>();
  let count = 0;
  const walk = (list: unknown, at: string, depth: number, parentImage: string | null): void => {
    if (list === undefined) return;
    if (depth > 32) throw new VexDocumentError('components nested deeper than 32 levels', { pointer: at });
    arrayAt(list, at).forEach((c, i) => {
      const cAt = pointerAt(at, i);
      const o = objectAt(c, cAt, 'a component object');
      if (++count > MAX_COMPONENTS) throw new VexDocumentError(`more than ${MAX_COMPONENTS} components`, { pointer: cAt }, { code: 'vex_too_large' });
      const identity = componentIdentity(o, cAt);
      const ref = optionalString(o, 'bom-ref', cAt, 1024);
      if (ref !== null) refs.set(ref, { identity, image: parentImage });
      walk(o.components, pointerAt(cAt, 'components'), depth + 1, identity.kind === 'image' ? identity.digest : parentImage);
    });
  };
  let image: string | null = null;
  if (metadata.component !== undefined) {
    const mc = objectAt(metadata.component, '/metadata/component');
    const identity = componentIdentity(mc, '/metadata/component');
    if (identity.kind === 'image') image = identity.digest;
    const ref = optionalString(mc, 'bom-ref', '/metadata/component', 1024);
    if (ref !== null) refs.set(ref, { identity, image: null });
    walk(mc.components, '/metadata/component/components', 1, image);
  }
  walk(root.components, '/components', 0, image);

  const list = arrayAt(root.vulnerabilities, '/vulnerabilities', { what: 'a list of vulnerabilities', min: 1 });
  const statements: ParsedVexStatement[] = [];
  const skipped: SkippedStatement[] = [];
  list.forEach((raw, i) => {
    const at = pointerAt('/vulnerabilities', i);
    const v = objectAt(raw, at, 'a vulnerability object');
    const idText = requiredString(v, 'id', at, 256);
    const vulnerability = vulnerabilityId(idText);
    if (vulnerability === null) throw new VexDocumentError(`${JSON.stringify(idText.slice(0, 80))} is not a vulnerability id`, { pointer: pointerAt(at, 'id') });
    const aliases = v.references === undefined ? [] : arrayAt(v.references, pointerAt(at, 'references')).map((r, k) => {
      const o = objectAt(r, pointerAt(pointerAt(at, 'references'), k));
      return vulnerabilityId(o.id);
    });
    const analysisAt = pointerAt(at, 'analysis');
    if (v.analysis === undefined) throw new VexDocumentError('analysis is required in a VEX (analysis.state says what is known)', { pointer: at });
    const analysis = objectAt(v.analysis, analysisAt);
    const stateText = requiredString(analysis, 'state', analysisAt, 64);
    const status = STATE[stateText];
    if (status === undefined) throw new VexDocumentError(`unknown analysis state ${JSON.stringify(stateText)} (one of ${Object.keys(STATE).join(', ')})`, { pointer: pointerAt(analysisAt, 'state') });
    const justification = optionalString(analysis, 'justification', analysisAt, 128);
    if (justification !== null && !CYCLONEDX_JUSTIFICATIONS.includes(justification)) {
      throw new VexDocumentError(`unknown justification ${JSON.stringify(justification)} (one of ${CYCLONEDX_JUSTIFICATIONS.join(', ')})`, { pointer: pointerAt(analysisAt, 'justification') });
    }
    const detail = optionalString(analysis, 'detail', analysisAt);
    const responses = analysis.response === undefined ? [] : arrayAt(analysis.response, pointerAt(analysisAt, 'response'), { max: 16 }).map((r, k) => {
      if (typeof r !== 'string') throw new VexDocumentError('expected a string', { pointer: pointerAt(pointerAt(analysisAt, 'response'), k) });
      return r;
    });
    const impactStatement = status === 'not_affected' ? (stateText === 'false_positive' ? `false positive${detail ? `: ${detail}` : ''}` : detail) : null;
    const actionStatement = status === 'not_affected' ? null : [responses.length > 0 ? `response: ${responses.join(', ')}` : null, detail].filter(Boolean).join('; ') || null;
    const affects = arrayAt(v.affects, pointerAt(at, 'affects'), { what: 'a list of affected components', min: 1 });
    const base = { vulnerability, aliases: [...new Set(aliases.filter((a): a is string => a !== null && a !== vulnerability))], status, justification, impactStatement, actionStatement };
    affects.forEach((a, k) => {
      const aAt = pointerAt(pointerAt(at, 'affects'), k);
      const ref = requiredString(objectAt(a, aAt), 'ref', aAt, 4096);
      const resolved = resolveRef(ref, refs, documentId, pointerAt(aAt, 'ref'), image);
      const identity = resolved.identity;
      if (identity.kind === 'other') {
        skipped.push({ position: aAt, reason: identity.reason });
        return;
      }
      statements.push({
        position: aAt,
        ...base,
        imageDigest: identity.kind === 'image' ? identity.digest : resolved.image,
        packagePurl: identity.kind === 'package' ? identity.purl : null,
      });
      if (statements.length > limits.maxStatements) throw new VexDocumentError(`more than ${limits.maxStatements} statements (vulnerability × affected component); split the document`, { pointer: aAt }, { code: 'vex_too_large' });
    });
  });
  return { format: 'cyclonedx', documentId, version, author, issuedAt, statements, skipped };
}

function componentIdentity(o: JsonObject, at: string): ProductIdentity {
  const purl = optionalString(o, 'purl', at, 4096);
  const hashes: Array<{ alg: string; value: string }> = [];
  if (Array.isArray(o.hashes)) for (const h of o.hashes) if (isJsonObject(h) && typeof h.alg === 'string' && typeof h.content === 'string') hashes.push({ alg: h.alg, value: h.content });
  if (purl !== null) return productIdentity(purl, pointerAt(at, 'purl'), hashes);
  const version = optionalString(o, 'version', at, 512);
  if (o.type === 'container' && version !== null) return productIdentity(version, pointerAt(at, 'version'), hashes);
  if (hashes.length > 0 && o.type === 'container') return productIdentity('', at, hashes);
  return { kind: 'other', reason: `component ${JSON.stringify(String(o.name ?? o['bom-ref'] ?? '').slice(0, 80))} has no purl` };
}

type Resolved = { identity: ProductIdentity; image: string | null };

/** A bom-ref, a BOM-Link (`urn:cdx:<serial>/<version>#<bom-ref>`) to this BOM, or a purl. */
function resolveRef(ref: string, refs: ReadonlyMap<string, Resolved>, serial: string | null, pointer: string, image: string | null): Resolved {
  const own = refs.get(ref);
  if (own !== undefined) return own;
  if (ref.startsWith('urn:cdx:')) {
    const hash = ref.indexOf('#');
    const target = hash < 0 ? null : decodeURIComponent(ref.slice(hash + 1));
    const bom = ref.slice('urn:cdx:'.length, hash < 0 ? undefined : hash).split('/')[0];
    if (target !== null && refs.has(target) && (serial === null || serial === `urn:uuid:${bom}`)) return refs.get(target)!;
    return { identity: { kind: 'other', reason: 'a BOM-Link to a component of another BOM' }, image };
  }
  if (ref.startsWith('pkg:')) return { identity: productIdentity(ref, pointer), image };
  throw new VexDocumentError(`${JSON.stringify(ref.slice(0, 120))} is not the bom-ref of a component of this BOM`, { pointer });
}

function authorOf(metadata: JsonObject): string | null {
  const authors = Array.isArray(metadata.authors) ? metadata.authors : [];
  for (const a of authors) if (isJsonObject(a) && typeof a.name === 'string' && a.name.trim() !== '') return a.name.trim().slice(0, 512);
  for (const key of ['supplier', 'manufacturer', 'manufacture']) {
    const o = metadata[key];
    if (isJsonObject(o) && typeof o.name === 'string' && o.name.trim() !== '') return o.name.trim().slice(0, 512);
  }
  return null;
}
