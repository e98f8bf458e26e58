import { createReadStream } from 'node:fs';
import { Digester, throwIfAborted, type Digest } from '@tsbuild/core';

/** sha256 of a file's bytes, streamed (memory does not grow with file size). Never follows a symlink: callers pass regular files they lstat'ed. */
export async function hashFile(path: string, options: { signal?: AbortSignal | undefined } = {}): Promise<Digest> {
  throwIfAborted(options.signal);
  const digester = new Digester();
  const stream = createReadStream(path, options.signal ? { signal: options.signal } : {});
  try {
    for await (const chunk of stream) digester.update(chunk as Buffer);
  } catch (err) {
    throwIfAborted(options.signal);
    throw err;
  }
  return digester.digest();
}
