import type { Readable } from 'node:stream';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import { streamXmlElements } from '../oval/stream-xml-elements.ts';
import { xmlAttr, xmlChild, xmlChildText } from '../oval/xml-element.ts';

/** Where a yum repository's `repomd.xml` says its updateinfo is. */
export interface RepomdUpdateinfo {
  /** Relative to the repository base (`repodata/…-updateinfo.xml.gz`). */
  location: string;
  /** The declared checksum of the (compressed) file, when it is a sha256. */
  sha256: string | null;
  size: number | null;
}

/**
 * Reads a yum `repomd.xml` and returns its `updateinfo` entry. Throws a FeedParseError when the
 * document is not repomd, has no updateinfo, or points outside the repository.
 */
export async function readRepomdUpdateinfo(input: Readable, label: string): Promise<RepomdUpdateinfo> {
  let root: string | null = null;
  const elements = streamXmlElements(input, {
    label,
    maxElementsPerSubtree: 1000,
    select: (name, attributes, path) => {
      if (path.length === 0) root = name;
      return path.length === 1 && name === 'data' && attributes.type === 'updateinfo';
    },
  });
  let found: RepomdUpdateinfo | null = null;
  for await (const data of elements) {
    const location = xmlAttr(xmlChild(data, 'location'), 'href');
    const checksum = xmlChild(data, 'checksum');
    const size = Number.parseInt(xmlChildText(data, 'size') ?? '', 10);
    if (location === null) continue;
    found = {
      location,
      sha256: xmlAttr(checksum, 'type') === 'sha256' && /^[0-9a-f]{64}$/.test(checksum?.text.trim() ?? '') ? checksum!.text.trim() : null,
      size: Number.isFinite(size) ? size : null,
    };
  }
  if (root !== 'repomd') throw new FeedParseError(`${label}: not a repomd.xml document`);
  if (found === null) throw new FeedParseError(`${label}: no updateinfo entry`);
  if (/^[a-z][a-z0-9+.-]*:|^\/|(^|\/)\.\.(\/|$)/i.test(found.location)) throw new FeedParseError(`${label}: updateinfo location ${JSON.stringify(found.location)} is not inside the repository`);
  return found;
}
