/**
 * Bounded retries with exponential backoff and full jitter on 429, 5xx
 * (not 501) and network failures, honouring `Retry-After` (seconds or an
 * HTTP date) up to `maxDelayMs` — the shape of undici's
 * `lib/interceptor/retry.js`. Only replayable requests are retried; a
 * streamed body is the caller's to resume (uploads resume from the
 * registry's reported offset).
 */
import { RegistryError, throwIfAborted } from '@tsbuild/core';
import { discard, isReplayable, type Transport } from './transport.js';

export interface RetryOptions {
  /** Attempts in all, the first included (default 5). */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** For tests: the jitter source, 0 ≤ r < 1. */
  random?: () => number;
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status !== 501 && status !== 505);
}

/** The wait before attempt `attempt + 1` (attempt counts from 0). */
export function retryDelay(attempt: number, retryAfter: string | undefined, options: RetryOptions = {}, now = Date.now()): number {
  const max = options.maxDelayMs ?? 30_000;
  if (retryAfter) {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - now;
    if (Number.isFinite(ms)) return Math.min(Math.max(ms, 0), max);
  }
  const ceiling = Math.min(max, (options.baseDelayMs ?? 200) * 2 ** attempt);
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

export function withRetry(next: Transport, options: RetryOptions = {}): Transport {
  const attempts = Math.max(1, options.attempts ?? 5);
  return async (request) => {
    for (let attempt = 0; ; attempt++) {
      const last = attempt + 1 >= attempts || !isReplayable(request);
      let wait: number;
      try {
        const response = await next(request);
        if (last || !isRetryableStatus(response.status)) return response;
        discard(response);
        wait = retryDelay(attempt, response.headers['retry-after'], options);
      } catch (err) {
        if (last || !(err instanceof RegistryError) || err.status !== 0) throw err;
        wait = retryDelay(attempt, undefined, options);
      }
      await sleep(wait, request.signal);
    }
  };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  throwIfAborted(signal);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(timer); try { throwIfAborted(signal); } catch (e) { reject(e); } };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
