/**
 * A one-slot hand-off of a file's chunks from the reader to one `extract` consumer, as an
 * `AsyncIterable<Buffer>` that can be iterated once. `push` resolves when the consumer has taken
 * the chunk or stopped listening, so a slow consumer slows the reader and nothing piles up.
 */
export class ChunkChannel implements AsyncIterable<Buffer> {
  #slot: Buffer | null = null;
  #ended = false;
  #closed = false;
  #error: unknown = null;
  #iterated = false;
  #consumer: { resolve: (result: IteratorResult<Buffer>) => void; reject: (error: unknown) => void } | null = null;
  #producer: (() => void) | null = null;

  /** Offers `chunk`; resolves once it is taken (or at once when the consumer is gone). */
  push(chunk: Buffer): Promise<void> | undefined {
    if (this.#closed || this.#ended) return undefined;
    const consumer = this.#consumer;
    if (consumer !== null) {
      this.#consumer = null;
      consumer.resolve({ value: chunk, done: false });
      return undefined;
    }
    this.#slot = chunk;
    return new Promise((resolve) => {
      this.#producer = resolve;
    });
  }

  /** No more chunks: the consumer's iteration ends after the last one. */
  end(): void {
    this.#ended = true;
    this.#settleConsumer();
  }

  /** The file could not be read to the end: the consumer's next read rejects with `error`. */
  fail(error: unknown): void {
    this.#error ??= error;
    this.#ended = true;
    this.#settleConsumer();
  }

  /** The consumer is done (its extract returned): further chunks are dropped. */
  close(): void {
    this.#closed = true;
    this.#slot = null;
    this.#releaseProducer();
    this.#settleConsumer();
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.#iterated) throw new TypeError('a file\'s chunks can be iterated only once');
    this.#iterated = true;
    return {
      next: () => this.#next(),
      return: async () => {
        this.close();
        return { value: undefined, done: true };
      },
    };
  }

  #next(): Promise<IteratorResult<Buffer>> {
    const chunk = this.#slot;
    if (chunk !== null) {
      this.#slot = null;
      this.#releaseProducer();
      return Promise.resolve({ value: chunk, done: false });
    }
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#ended || this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#consumer = { resolve, reject };
    });
  }

  #releaseProducer(): void {
    const producer = this.#producer;
    this.#producer = null;
    producer?.();
  }

  #settleConsumer(): void {
    const consumer = this.#consumer;
    if (consumer === null) return;
    this.#consumer = null;
    if (this.#error !== null) consumer.reject(this.#error);
    else consumer.resolve({ value: undefined, done: true });
  }
}
