/**
 * A process-wide pool of compression worker threads, `os.availableParallelism()`
 * of them, started on first use. Idle workers are unref'd so an idle pool
 * never keeps the process alive; a worker that dies fails only its own task
 * and is replaced on demand.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InternalError } from '@tsbuild/core';
import { ownedArrayBuffer, type ChunkCompression } from './compress-chunk.js';
import type { CompressRequest, CompressResponse } from './compress-worker.js';

interface Task {
  request: CompressRequest;
  resolve: (data: Buffer) => void;
  reject: (err: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  task?: Task;
}

const fromSource = import.meta.url.endsWith('.ts');
const workerUrl = new URL(`./compress-worker${fromSource ? '.ts' : '.js'}`, import.meta.url);

/**
 * Run as TypeScript source (tests and benches under tsx), the worker thread
 * needs tsx's loader registered in its own thread before it can import a .ts
 * entry; Node 20 does not carry the parent's loader hooks into workers.
 */
function startWorker(): Worker {
  if (!fromSource) return new Worker(workerUrl);
  const tsxRoot = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const api = pathToFileURL(join(tsxRoot, 'dist/esm/api/index.mjs')).href;
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(workerUrl.href)}); });`;
  return new Worker(boot, { eval: true });
}

export class CompressPool {
  readonly size: number;
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Task[] = [];
  private nextId = 0;

  constructor(size = availableParallelism()) {
    this.size = Math.max(1, size);
  }

  /** Compresses `data` into one gzip member / zstd frame on a worker. `data` is transferred (detached) when it owns its buffer. */
  run(compression: ChunkCompression, data: Uint8Array, level?: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const request: CompressRequest = { id: this.nextId++, compression, data: ownedArrayBuffer(data) };
      if (level !== undefined) request.level = level;
      this.queue.push({ request, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Starts the workers now, idle (and unref'd), so the first layer does not
   * wait for threads to boot: a build calls this when its first op that
   * makes a layer starts, which runs for tens of milliseconds (a container, a
   * copy) before the layer is compressed.
   */
  warm(): void {
    while (this.workers.length < this.size) this.spawn().worker.unref();
  }

  /** Stops all workers; queued tasks fail. */
  async close(): Promise<void> {
    for (const t of this.queue.splice(0)) t.reject(new InternalError('compression pool closed', { code: 'STORE_COMPRESS_POOL_CLOSED' }));
    await Promise.all(this.workers.splice(0).map((w) => w.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let pw = this.workers.find((w) => w.task === undefined);
      if (!pw) {
        if (this.workers.length >= this.size) return;
        pw = this.spawn();
      }
      const task = this.queue.shift()!;
      pw.task = task;
      pw.worker.ref();
      pw.worker.postMessage(task.request, [task.request.data.buffer as ArrayBuffer]);
    }
  }

  private spawn(): PoolWorker {
    const pw: PoolWorker = { worker: startWorker() };
    pw.worker.on('message', (res: CompressResponse) => {
      const task = pw.task;
      pw.task = undefined;
      pw.worker.unref();
      if (task) {
        if ('error' in res) task.reject(new InternalError(`compression failed: ${res.error}`, { code: 'STORE_COMPRESS_FAILED' }));
        else task.resolve(Buffer.from(res.data.buffer, res.data.byteOffset, res.data.byteLength));
      }
      this.dispatch();
    });
    const fail = (err: Error) => {
      const i = this.workers.indexOf(pw);
      if (i >= 0) this.workers.splice(i, 1);
      pw.task?.reject(new InternalError(`compression worker failed: ${err.message}`, { code: 'STORE_COMPRESS_FAILED', cause: err }));
      pw.task = undefined;
      this.dispatch();
    };
    pw.worker.on('error', fail);
    pw.worker.on('exit', (code) => fail(new Error(`worker exited with code ${code}`)));
    this.workers.push(pw);
    return pw;
  }
}

let shared: CompressPool | undefined;

/** The process-wide pool. */
export function sharedCompressPool(): CompressPool {
  shared ??= new CompressPool();
  return shared;
}
