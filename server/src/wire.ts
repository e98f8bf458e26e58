/**
 * The framing of the server's request bodies and file streams
 * (docs/server-protocol.md): a frame is a 4-byte big-endian length and that
 * many bytes of JSON; a length of 0 ends a sequence. A file entry is a frame
 * `{path, type: 'file', size, …}` followed by exactly `size` raw bytes.
 * Reading is bounded everywhere: a frame longer than its limit, or a body that
 * ends early, is a ProtocolError — never a buffer of unbounded size.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { InvalidArgumentError } from '@tsbuild/core';

/** A malformed, oversized or truncated request: HTTP 400/413 for its sender, nothing for anyone else. */
export class ProtocolError extends InvalidArgumentError {
  readonly status: number;
  constructor(message: string, status = 400) {
    super(message, { code: status === 413 ? 'SERVER_REQUEST_TOO_LARGE' : 'SERVER_BAD_REQUEST' });
    this.status = status;
  }
}

export function jsonFrame(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

export const END_FRAME = Buffer.alloc(4);

/** Pulls exact byte counts out of a chunked stream. */
export class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer | string>;
  /** Bytes consumed so far (frames and content). */
  consumed = 0;

  constructor(source: AsyncIterable<Buffer | string>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** The next frame's JSON, or undefined at an end frame. */
  async frame<T = unknown>(limit: number, what: string): Promise<T | undefined> {
    const length = (await this.exact(4, what)).readUInt32BE(0);
    if (length === 0) return undefined;
    if (length > limit) throw new ProtocolError(`${what}: frame of ${length} bytes exceeds the limit of ${limit}`, 413);
    const text = (await this.exact(length, what)).toString('utf8');
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ProtocolError(`${what}: frame is not JSON`);
    }
  }

  async exact(n: number, what: string): Promise<Buffer> {
    while (this.buf.length < n) {
      if (!(await this.fill())) throw new ProtocolError(`${what}: the stream ended early (truncated)`);
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.consumed += n;
    return out;
  }

  /** Yields exactly `n` bytes in chunks as they arrive (a file's content: never held whole). */
  async *bytes(n: number, what: string): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.fill())) throw new ProtocolError(`${what}: the stream ended early (truncated)`);
      const take = Math.min(left, this.buf.length);
      const out = this.buf.subarray(0, take);
      this.buf = this.buf.subarray(take);
      this.consumed += take;
      left -= take;
      yield out;
    }
  }

  private async fill(): Promise<boolean> {
    const next = await this.it.next();
    if (next.done) return false;
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    return true;
  }
}

/** Writes with backpressure; rejects when the stream is gone. */
export async function writeChunk(stream: Writable, chunk: Buffer): Promise<void> {
  if (stream.destroyed) throw new ProtocolError('the stream was closed');
  if (stream.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new ProtocolError('the stream was closed'));
    stream.on('drain', onDrain);
    stream.on('close', onClose);
  });
}
