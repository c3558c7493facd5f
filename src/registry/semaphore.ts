/** Releases a {@link Semaphore} slot; calling it more than once has no further effect. */
export type Release = () => void;

/** A counting semaphore: at most `size` holders at once, waiters served in arrival order. */
export class Semaphore {
  private readonly size: number;
  private held = 0;
  private readonly waiters: Array<{ grant: (release: Release) => void; fail: (err: unknown) => void }> = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('semaphore size must be a positive integer');
    this.size = size;
  }

  /** Slots currently held. */
  get inUse(): number {
    return this.held;
  }

  /** Waits for a slot; rejects with the signal's reason if `signal` fires first. */
  acquire(signal?: AbortSignal): Promise<Release> {
    signal?.throwIfAborted();
    if (this.held < this.size) {
      this.held++;
      return Promise.resolve(this.releaser());
    }
    return new Promise<Release>((resolve, reject) => {
      const waiter = {
        grant: (release: Release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
        fail: reject,
      };
      const onAbort = (): void => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next.grant(this.releaser());
      else this.held--;
    };
  }
}
