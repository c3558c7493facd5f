import { isCsaf, parseCsafVex } from './parse-csaf-vex.ts';
import { isCycloneDx, parseCycloneDxVex } from './parse-cyclonedx-vex.ts';
import { parseJsonText } from './parse-json-text.ts';
import { isOpenVex, parseOpenVex } from './parse-openvex.ts';
import { VEX_FORMATS, type ParsedVexDocument, type VexFormat, type VexLimits } from './parsed-vex.ts';
import { VexDocumentError } from './vex-document-error.ts';

/** Limits of {@link parseVexDocument}. */
export interface VexDocumentLimits extends VexLimits {
  /** Largest document text, in bytes (UTF-8). */
  maxBytes: number;
}

/** The format a parsed JSON document is in (OpenVEX `@context`, CycloneDX `bomFormat`, CSAF `document.csaf_version`), or null. */
export function detectVexFormat(doc: unknown): VexFormat | null {
  if (isOpenVex(doc)) return 'openvex';
  if (isCycloneDx(doc)) return 'cyclonedx';
  if (isCsaf(doc)) return 'csaf';
  return null;
}

/**
 * Reads a VEX document from its text: OpenVEX, CycloneDX VEX or CSAF 2.0 VEX, told apart by
 * their own markers unless `format` says which. Throws a {@link VexDocumentError} naming the
 * position of the first problem (line and column for JSON that does not parse, a JSON pointer
 * otherwise) or the limit passed (`vex_too_large`); nothing is kept of a document that fails.
 */
export function parseVexDocument(text: string | Buffer, limits: VexDocumentLimits, format?: VexFormat): ParsedVexDocument {
  const bytes = typeof text === 'string' ? Buffer.byteLength(text) : text.length;
  if (bytes > limits.maxBytes) throw new VexDocumentError(`document of ${bytes} bytes is over the limit of ${limits.maxBytes}`, null, { code: 'vex_too_large' });
  let source: string;
  try {
    source = typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: true }).decode(text);
  } catch {
    throw new VexDocumentError('document is not valid UTF-8', null);
  }
  const doc = parseJsonText(source);
  if (format !== undefined && !VEX_FORMATS.includes(format)) throw new VexDocumentError(`unknown format ${JSON.stringify(format)} (${VEX_FORMATS.join(', ')})`, null);
  const kind = format ?? detectVexFormat(doc);
  switch (kind) {
    case 'openvex':
      return parseOpenVex(doc, limits);
    case 'cyclonedx':
      return parseCycloneDxVex(doc, limits);
    case 'csaf':
      return parseCsafVex(doc, limits);
    default:
      throw new VexDocumentError('not a VEX document: expected OpenVEX (@context https://openvex.dev/ns/…), CycloneDX (bomFormat) or CSAF (document.csaf_version)', { pointer: '' });
  }
}
