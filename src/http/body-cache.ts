/**
 * Serialized response bodies by strong ETag, least recently used first out, bounded by their
 * total size: a status document of a big image is megabytes of JSON, and every client polling it
 * without `If-None-Match` would otherwise pay for serializing it again. An ETag names exactly one
 * body, so an entry never goes stale.
 */
export class BodyCache {
  private readonly maxBytes: number;
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** The body for `etag`, made (and kept, when it fits in a quarter of the cache) by `make` when missing. */
  async get(etag: string, make: () => Promise<string | Buffer>): Promise<Buffer> {
    const hit = this.entries.get(etag);
    if (hit) {
      this.entries.delete(etag);
      this.entries.set(etag, hit);
      return hit;
    }
    const made = await make();
    const body = typeof made === 'string' ? Buffer.from(made) : made;
    if (body.length <= this.maxBytes / 4 && !this.entries.has(etag)) {
      this.entries.set(etag, body);
      this.bytes += body.length;
      for (const [key, value] of this.entries) {
        if (this.bytes <= this.maxBytes) break;
        this.entries.delete(key);
        this.bytes -= value.length;
      }
    }
    return body;
  }
}
