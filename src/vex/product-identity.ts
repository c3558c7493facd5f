import { parsePackageUrl } from '../ecosystems/rhel/package-url.ts';
import { isDigest } from '../oci/digest.ts';
import { ecosystemOfPurlType } from './package-purl-match.ts';
import { VexDocumentError } from './vex-document-error.ts';

/** What a VEX product names, as far as Lookout can match it. */
export type ProductIdentity = { kind: 'image'; digest: string } | { kind: 'package'; purl: string } | { kind: 'other'; reason: string };

const MAX_ID = 4096;

/**
 * Reads a product identifier: an OCI purl with a digest version (`pkg:oci/app@sha256%3A…`) or a
 * bare digest is an image; a purl of a type Lookout has packages of (apk, deb, rpm, pypi, npm,
 * golang, maven, gem, cargo) is a package; anything else (CPEs, IRIs, purls of other types) is
 * `other` with the reason. A string that starts with `pkg:` but is not a purl is a
 * {@link VexDocumentError} at `pointer`.
 */
export function productIdentity(id: string, pointer: string, hashes: ReadonlyArray<{ alg: string; value: string }> = []): ProductIdentity {
  const text = id.trim();
  if (text.length > MAX_ID) throw new VexDocumentError(`product identifier longer than ${MAX_ID} characters`, { pointer });
  if (isDigest(text)) return { kind: 'image', digest: text };
  if (text.startsWith('pkg:')) {
    const purl = parsePackageUrl(text);
    if (purl === null) throw new VexDocumentError(`${JSON.stringify(text.slice(0, 120))} is not a valid package URL`, { pointer });
    if (purl.type === 'oci' || purl.type === 'docker') {
      const digest = purl.version !== null && isDigest(purl.version) ? purl.version : digestOf(hashes);
      if (digest === null) return { kind: 'other', reason: `${purl.type} purl without an image digest` };
      return { kind: 'image', digest };
    }
    if (ecosystemOfPurlType(purl.type) === null) return { kind: 'other', reason: `no packages of purl type ${purl.type}` };
    return { kind: 'package', purl: text };
  }
  const digest = digestOf(hashes);
  if (digest !== null) return { kind: 'image', digest };
  if (/^cpe:/i.test(text)) return { kind: 'other', reason: 'a CPE names no package or image Lookout can match' };
  return { kind: 'other', reason: `${JSON.stringify(text.slice(0, 80))} names no package or image Lookout can match` };
}

/** A sha256/sha512 digest from hash entries (`sha-256`, `SHA-256`, `sha256`), or null. */
function digestOf(hashes: ReadonlyArray<{ alg: string; value: string }>): string | null {
  for (const h of hashes) {
    const alg = h.alg.toLowerCase().replace(/-/g, '');
    const d = `${alg}:${h.value.toLowerCase()}`;
    if ((alg === 'sha256' || alg === 'sha512') && isDigest(d)) return d;
  }
  return null;
}
