/** The parts of a package URL (`pkg:rpm/redhat/curl@7.76.1-26.el9?arch=x86_64&epoch=1`), percent-decoded. */
export interface PackageUrl {
  type: string;
  namespace: string | null;
  name: string;
  version: string | null;
  qualifiers: Readonly<Record<string, string>>;
}

function decode(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

/** Parses a package URL as the purl spec writes it; null when it is not one. Subpaths are ignored. */
export function parsePackageUrl(text: string): PackageUrl | null {
  if (text.length > 4096 || !text.startsWith('pkg:')) return null;
  let rest = text.slice(4).replace(/^\/+/, '');
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const qualifiers: Record<string, string> = {};
  const q = rest.indexOf('?');
  if (q >= 0) {
    for (const pair of rest.slice(q + 1).split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      if (eq <= 0) return null;
      const value = decode(pair.slice(eq + 1));
      if (value === null) return null;
      qualifiers[pair.slice(0, eq).toLowerCase()] = value;
    }
    rest = rest.slice(0, q);
  }
  let version: string | null = null;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    version = decode(rest.slice(at + 1));
    if (version === null) return null;
    rest = rest.slice(0, at);
  }
  const segments = rest.split('/').filter((s) => s !== '');
  if (segments.length < 2) return null;
  const type = segments[0]!.toLowerCase();
  const name = decode(segments[segments.length - 1]!);
  const namespaceParts = segments.slice(1, -1).map(decode);
  if (name === null || name === '' || namespaceParts.includes(null)) return null;
  return {
    type,
    namespace: namespaceParts.length === 0 ? null : namespaceParts.join('/'),
    name,
    version: version === '' ? null : version,
    qualifiers,
  };
}
