/**
 * docker run's exit codes for what is not the container's own exit status:
 * 125 for an error before the container ran (docker: "the daemon itself"),
 * 126 for a command that cannot be invoked, 127 for a command not found,
 * 128+n when tsbuild itself was stopped by signal n.
 */
import { Writable } from 'node:stream';

export const EXIT_ENGINE_ERROR = 125;
export const EXIT_CANNOT_INVOKE = 126;
export const EXIT_NOT_FOUND = 127;

/**
 * The runtime's own report of a failed exec, recognised the way dockerd does
 * it (by message text: both runtimes exit 1 for it, like for anything else):
 *   crun:  executable file `nosuch` not found in $PATH: No such file or directory
 *   crun:  open executable: Permission denied | Operation not permitted (a directory)
 *   runc:  time="…" level=error msg="runc run failed: unable to start container process: exec: \"x\": executable file not found in $PATH"
 * Only the first line of stderr is looked at: when exec fails nothing of the
 * container has run, so the runtime's line comes first; a container that
 * prints such text after doing anything else keeps its own exit code.
 */
export function execFailureExitCode(stderrHead: string): number | undefined {
  const line = stderrHead.split('\n', 1)[0]!;
  const runc = /level=error msg="runc run failed: unable to start container process: exec: (.*)"$/.exec(line)?.[1];
  if (runc !== undefined) {
    if (/not found|no such file or directory/i.test(runc)) return EXIT_NOT_FOUND;
    if (/permission denied|exec format error|is a directory/i.test(runc)) return EXIT_CANNOT_INVOKE;
    return undefined;
  }
  if (/^executable file `.*` not found in \$PATH/.test(line)) return EXIT_NOT_FOUND;
  if (/^open executable: /.test(line)) return /No such file/i.test(line) ? EXIT_NOT_FOUND : EXIT_CANNOT_INVOKE;
  if (/^(execv|exec) .*: (Exec format error|Permission denied)/i.test(line)) return EXIT_CANNOT_INVOKE;
  return undefined;
}

/** 130 for SIGINT, 143 for SIGTERM (128 + signal number), judged from main's abort reason. */
export function signalExitCode(reason: unknown): number {
  const text = reason instanceof Error ? reason.message : String(reason);
  if (/SIGTERM/.test(text)) return 143;
  if (/SIGHUP/.test(text)) return 129;
  return 130;
}

/**
 * A writable that forwards every byte to `target` (never ending it: the
 * caller's stderr outlives the container) and remembers the first `limit`.
 */
export class HeadTap extends Writable {
  private readonly chunks: Buffer[] = [];
  private kept = 0;

  constructor(private readonly target: NodeJS.WritableStream, private readonly limit = 4096) {
    super();
  }

  get head(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.kept < this.limit) {
      const part = chunk.subarray(0, this.limit - this.kept);
      this.chunks.push(part);
      this.kept += part.length;
    }
    if (this.target.write(chunk)) done();
    else this.target.once('drain', () => done());
  }
}
