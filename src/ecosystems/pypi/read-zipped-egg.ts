import yauzl from 'yauzl';

/** Bounds on reading a zipped `.egg`. */
export interface EggLimits {
  /** Zip entries looked through. */
  entries: number;
  /** Bytes of `EGG-INFO/PKG-INFO` inflated (its head is all that is needed). */
  metadataBytes: number;
}

/**
 * The first `metadataBytes` of `EGG-INFO/PKG-INFO` inside a zipped egg; an error message when the
 * archive is unreadable, has too many entries or no such file. Never throws.
 */
export async function readZippedEggMetadata(data: Buffer, limits: EggLimits): Promise<{ text: string } | { error: string }> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromBufferPromise(data, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false });
  } catch (error) {
    return { error: `not a readable zip archive (${(error as Error).message})` };
  }
  try {
    if (zip.entryCount > limits.entries) return { error: `${zip.entryCount} zip entries, more than the ${limits.entries} allowed` };
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName !== 'EGG-INFO/PKG-INFO') continue;
      if (entry.isEncrypted()) return { error: 'EGG-INFO/PKG-INFO is encrypted' };
      const stream = await zip.openReadStreamPromise(entry);
      const parts: Buffer[] = [];
      let length = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        parts.push(chunk);
        length += chunk.length;
        if (length >= limits.metadataBytes) break;
      }
      stream.destroy();
      return { text: Buffer.concat(parts).subarray(0, limits.metadataBytes).toString('utf8') };
    }
    return { error: 'no EGG-INFO/PKG-INFO inside' };
  } catch (error) {
    return { error: `unreadable zip archive (${(error as Error).message})` };
  } finally {
    zip.close();
  }
}
