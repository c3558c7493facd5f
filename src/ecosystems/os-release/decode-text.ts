/** Text decoded from a file of a layer, and whether bytes that are not UTF-8 had to be replaced. */
export interface DecodedText {
  text: string;
  /** True when the bytes were not valid UTF-8 and invalid sequences became U+FFFD. */
  lossy: boolean;
}

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const lenient = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false });

/**
 * Decodes package-database or release-file bytes as UTF-8 without ever throwing: invalid
 * sequences become U+FFFD and `lossy` says so, so the caller can add a note. A leading BOM is dropped.
 */
export function decodeText(data: Uint8Array): DecodedText {
  try {
    return { text: strict.decode(data), lossy: false };
  } catch {
    return { text: lenient.decode(data), lossy: true };
  }
}
