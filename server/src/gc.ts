/**
 * The server's build-cache GC: buildkitd's. The Controller runs its GC a
 * second after start-up and after every build, through
 * `throttle.After(time.Minute, c.gc)` (control/control.go: NewController,
 * Solve; util/throttle/throttle.go: After): requests while a run is going or
 * within a minute of it collapse into one run after the pause. Here the
 * policies are buildkitd's defaults for a `--gc-keep-storage` cap
 * (defaultGcPolicies), and a periodic request also runs, so that a server
 * nobody builds on still converges.
 *
 * A running build loses nothing: pruneBuildCache skips what a live lease
 * holds (builder/src/cache-gc/prune-cache.ts).
 */
import { defaultGcPolicies, pruneBuildCache } from '@tsbuild/builder';
import type { Store } from '@tsbuild/store';
import type { Metrics } from './metrics.js';

export interface ServerGcOptions {
  /** The build cache's cap in bytes (buildkitd's keepStorage). */
  keepBytes: number;
  /** The pause after a run before the next may start; default one minute, as buildkitd's throttle. */
  minIntervalMs?: number;
  /** A run is requested this often even without builds; default 10 minutes. */
  periodMs?: number;
}

export class CacheGc {
  private pending = false;
  private loop: Promise<void> | undefined;
  private closed = false;
  private wake: (() => void) | undefined;
  private readonly period: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly options: ServerGcOptions,
    private readonly metrics: Metrics,
    private readonly log: (line: string) => void,
  ) {
    this.period = setInterval(() => this.request(), options.periodMs ?? 600_000);
    this.period.unref();
  }

  /** Asks for a run: now if none ran within the interval, else once after it. */
  request(): void {
    if (this.closed) return;
    this.pending = true;
    this.loop ??= this.run().finally(() => { this.loop = undefined; });
  }

  /** Stops the timers and waits for a run in progress. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.period);
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.pending && !this.closed) {
      this.pending = false;
      await this.once();
      await this.pause(this.options.minIntervalMs ?? 60_000);
    }
  }

  private async once(): Promise<void> {
    try {
      const r = await pruneBuildCache(this.store, { policies: defaultGcPolicies(this.options.keepBytes) });
      this.metrics.gcRuns++;
      this.metrics.gcBytesFreed += r.reclaimedBytes;
      if (r.removed.length) this.log(`gc: removed ${r.removed.length} cache records, ${r.reclaimedBytes} bytes (keep-storage ${this.options.keepBytes})`);
    } catch (err) {
      this.metrics.gcFailures++;
      this.log(`gc failed: ${(err as Error).message}`);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
