/**
 * Per-client limits: a token bucket of requests (a client over its rate gets
 * 429 and nobody else notices) and a bound on its builds at once; and the
 * server-wide bound on builds running at once, which queues instead.
 */

export interface Limits {
  /** The build request's first frame (options and context listing). */
  requestFrameBytes: number;
  /** One file-entry frame. */
  entryFrameBytes: number;
  /** Entries in one context listing. */
  contextEntries: number;
  /** Requests per second per client, and the burst above it. */
  requestsPerSecond: number;
  burst: number;
  /** Builds one client may have running or queued at once. */
  buildsPerClient: number;
}

export const DEFAULT_LIMITS: Limits = {
  requestFrameBytes: 256 * 1024 * 1024,
  entryFrameBytes: 64 * 1024,
  contextEntries: 2_000_000,
  requestsPerSecond: 20,
  burst: 100,
  buildsPerClient: 32,
};

export class ClientLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly builds = new Map<string, number>();

  constructor(private readonly limits: Limits) {}

  /** Takes one request token; false when the client is over its rate. */
  admit(client: string): boolean {
    const now = Date.now();
    const b = this.buckets.get(client) ?? { tokens: this.limits.burst, at: now };
    b.tokens = Math.min(this.limits.burst, b.tokens + ((now - b.at) / 1000) * this.limits.requestsPerSecond);
    b.at = now;
    this.buckets.set(client, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Counts a build against the client's bound; undefined when it is at its bound, else the release. */
  startBuild(client: string): (() => void) | undefined {
    const n = this.builds.get(client) ?? 0;
    if (n >= this.limits.buildsPerClient) return undefined;
    this.builds.set(client, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.builds.get(client) ?? 1) - 1;
      if (left === 0) this.builds.delete(client);
      else this.builds.set(client, left);
    };
  }
}

/** A counting semaphore: `--max-parallel-builds`. */
export class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(n: number) {
    this.free = n;
  }

  /** Resolves with a release once a slot is free; an abort while waiting rejects and takes no slot. */
  acquire(signal: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          const next = this.waiting.shift();
          if (next) next();
          else this.free++;
        });
      };
      const onAbort = (): void => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal.reason);
      };
      if (signal.aborted) return reject(signal.reason);
      if (this.free > 0) {
        this.free--;
        grant();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(grant);
    });
  }
}
