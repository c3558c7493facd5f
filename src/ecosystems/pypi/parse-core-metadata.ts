/** The fields of Python core metadata (METADATA, PKG-INFO) that identify a distribution. */
export interface CoreMetadata {
  name: string | null;
  version: string | null;
}

const HEADER = /^([A-Za-z0-9][A-Za-z0-9_-]*)[ \t]*:[ \t]*(.*)$/;

/**
 * Reads `Name` and `Version` from the RFC 822 header block of Python core metadata. Reading stops
 * at the first blank line or the first line that is neither a header nor a continuation (as
 * Python's email parser does), so a long description body is never looked at. The first
 * occurrence of each field wins; values are trimmed. Never throws.
 */
export function parseCoreMetadata(text: string): CoreMetadata {
  const result: CoreMetadata = { name: null, version: null };
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const line of lines) {
    if (line.trim() === '') break;
    if (line.startsWith(' ') || line.startsWith('\t')) continue;
    const match = HEADER.exec(line);
    if (match === null) break;
    const key = (match[1] as string).toLowerCase();
    const value = (match[2] as string).trim();
    if (key === 'name' && result.name === null) result.name = value;
    else if (key === 'version' && result.version === null) result.version = value;
    if (result.name !== null && result.version !== null) break;
  }
  return result;
}

/** PEP 440's public and local version grammar (the pattern `packaging` uses), case-insensitive. */
const PEP440 = new RegExp(
  '^\\s*v?(?:(?:[0-9]+!)?[0-9]+(?:\\.[0-9]+)*' +
    '(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?' +
    '(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?' +
    '(?:[-_.]?dev[-_.]?[0-9]*)?)' +
    '(?:\\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?\\s*$',
  'i',
);

/** Whether `version` is a valid PEP 440 version. */
export function isPep440(version: string): boolean {
  return PEP440.test(version);
}
