/**
 * Output plumbing for a step: a shared byte budget over stdout and stderr
 * (BuildKit's per-step log limit) and a tail of the last lines for error messages.
 */
import { Writable } from 'node:stream';

/**
 * Forwards chunks to `target` until the shared budget is spent, then drops the
 * rest and writes one notice line. Dropping (not pausing) keeps the process
 * running: it never blocks on a full pipe.
 */
export class OutputLimiter {
  private used = 0;
  private clipped = false;

  constructor(private readonly limit: number = Infinity) {}

  writable(target: NodeJS.WritableStream | undefined): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        if (!target) return cb();
        const room = this.limit - this.used;
        if (room <= 0) {
          if (!this.clipped) {
            this.clipped = true;
            return forward(target, Buffer.from(`\n[output clipped, log limit ${formatBytes(this.limit)} reached]\n`), cb);
          }
          return cb();
        }
        const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
        this.used += part.length;
        if (part.length < chunk.length) {
          this.clipped = true;
          return forward(target, Buffer.concat([part, Buffer.from(`\n[output clipped, log limit ${formatBytes(this.limit)} reached]\n`)]), cb);
        }
        forward(target, part, cb);
      },
    });
  }
}

function forward(target: NodeJS.WritableStream, data: Buffer, cb: (err?: Error | null) => void): void {
  if (target.write(data)) cb();
  else target.once('drain', () => cb());
}

export function formatBytes(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)}MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024}KiB`;
  return `${n}B`;
}

/** Keeps the last `maxLines` lines written to it (and tees to `target`). */
export class TailBuffer {
  private text = '';

  constructor(private readonly maxLines = 10, private readonly maxChars = 8192) {}

  tee(target: NodeJS.WritableStream | undefined): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        this.text = (this.text + chunk.toString('utf8')).slice(-this.maxChars);
        if (target) forward(target, chunk, cb);
        else cb();
      },
    });
  }

  lines(): string {
    return this.text.replace(/\n$/, '').split('\n').slice(-this.maxLines).join('\n');
  }
}
