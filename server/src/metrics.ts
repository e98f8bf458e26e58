/**
 * The server's counters, exposed at /metrics in Prometheus' text format
 * (version 0.0.4). Only counts and sizes: never a secret, path or build
 * argument.
 */
import type { DiskUsage } from '@tsbuild/store';

export type BuildOutcome = 'success' | 'failure' | 'canceled';

export class Metrics {
  buildsRunning = 0;
  buildsQueued = 0;
  readonly buildsFinished: Record<BuildOutcome, number> = { success: 0, failure: 0, canceled: 0 };
  stepsExecuted = 0;
  stepsCached = 0;
  /** Steps this build joined while another build ran them (flight.ts). */
  stepsShared = 0;
  bytesReceived = 0;
  bytesSent = 0;
  contextFilesReceived = 0;
  readonly rejected: Record<string, number> = {};
  gcRuns = 0;
  gcFailures = 0;
  gcBytesFreed = 0;

  reject(reason: string): void {
    this.rejected[reason] = (this.rejected[reason] ?? 0) + 1;
  }

  text(store: DiskUsage[]): string {
    const lines: string[] = [];
    const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: Array<[labels: string, value: number]>) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
    };
    metric('tsbuild_builds_running', 'gauge', 'Builds running now.', [['', this.buildsRunning]]);
    metric('tsbuild_builds_queued', 'gauge', 'Builds waiting for a slot (--max-parallel-builds).', [['', this.buildsQueued]]);
    metric('tsbuild_builds_finished_total', 'counter', 'Builds finished, by result.', Object.entries(this.buildsFinished).map(([r, n]) => [`{result="${r}"}`, n]));
    metric('tsbuild_steps_total', 'counter', 'Build steps, by how they were served.', [['{state="executed"}', this.stepsExecuted], ['{state="cached"}', this.stepsCached]]);
    metric('tsbuild_bytes_received_total', 'counter', 'Request body bytes received (context uploads included).', [['', this.bytesReceived]]);
    metric('tsbuild_bytes_sent_total', 'counter', 'Response bytes sent (progress events and outputs).', [['', this.bytesSent]]);
    metric('tsbuild_context_files_received_total', 'counter', 'Context files whose content was uploaded.', [['', this.contextFilesReceived]]);
    metric('tsbuild_requests_rejected_total', 'counter', 'Requests refused, by reason.', Object.entries(this.rejected).map(([r, n]) => [`{reason="${r}"}`, n]));
    metric('tsbuild_gc_runs_total', 'counter', 'Build-cache GC runs (serve --gc-keep-storage), by result.', [['{result="success"}', this.gcRuns], ['{result="failure"}', this.gcFailures]]);
    metric('tsbuild_gc_freed_bytes_total', 'counter', 'Bytes of cache records the GC removed.', [['', this.gcBytesFreed]]);
    metric('tsbuild_store_bytes', 'gauge', 'Store size by kind.', store.map((u) => [`{kind="${u.kind}"}`, u.bytes]));
    return lines.join('\n') + '\n';
  }
}
