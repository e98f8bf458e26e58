/**
 * Deduplication of in-flight work: the first caller for a key starts it, later
 * callers with the same key (from the same solve or another one on the same
 * Solver) wait for the same promise. Cancellation is per waiter: a waiter
 * whose signal aborts while others still wait is rejected with CanceledError
 * at once; the last waiter to go aborts the work itself (BuildKit's
 * flightcontrol) and is rejected with CanceledError only once the work has
 * settled, so whoever cancels last never outruns the work's cleanup. Events
 * the work emits reach every current waiter.
 */
import { CanceledError } from '@tsbuild/core';

export interface FlightWaiter<E> {
  signal: AbortSignal;
  listener: (event: E) => void;
}

interface Flight<T, E> {
  controller: AbortController;
  waiters: number;
  listeners: Array<(event: E) => void>;
  promise: Promise<T>;
}

export class FlightGroup<T, E> {
  private readonly flights = new Map<string, Flight<T, E>>();

  /**
   * `shared` is true when this caller joined work another caller started.
   * `onStart` is called with the work's own promise when this caller starts
   * it: the work may outlive this caller (others still wait), and a starter
   * that owns what the work uses must not release it before the work settles.
   */
  run(key: string, waiter: FlightWaiter<E>, work: (signal: AbortSignal, emit: (event: E) => void) => Promise<T>, onStart?: (work: Promise<unknown>) => void): Promise<{ value: T; shared: boolean }> {
    if (waiter.signal.aborted) return Promise.reject(canceled(waiter.signal));
    let flight = this.flights.get(key);
    const shared = flight !== undefined;
    if (!flight) {
      flight = this.start(key, work);
      onStart?.(flight.promise);
    }
    const f = flight;
    f.waiters++;
    f.listeners.push(waiter.listener);
    return new Promise((resolve, reject) => {
      let settled = false;
      const leave = (): void => {
        settled = true;
        waiter.signal.removeEventListener('abort', onAbort);
        const i = f.listeners.indexOf(waiter.listener);
        if (i >= 0) f.listeners.splice(i, 1);
        f.waiters--;
      };
      const onAbort = (): void => {
        if (settled) return;
        leave();
        if (f.waiters > 0) {
          // Others still want the result: this waiter goes at once, the work goes on for them.
          reject(canceled(waiter.signal));
          return;
        }
        // Nobody wants the result any more: stop the work and let a new caller start afresh —
        // and settle only once the work has (its cleanup is done before the caller moves on).
        if (this.flights.get(key) === f) this.flights.delete(key);
        f.controller.abort(waiter.signal.reason);
        const error = canceled(waiter.signal);
        f.promise.then(() => reject(error), () => reject(error));
      };
      waiter.signal.addEventListener('abort', onAbort, { once: true });
      f.promise.then(
        (value) => {
          if (settled) return;
          leave();
          resolve({ value, shared });
        },
        (err: unknown) => {
          if (settled) return;
          leave();
          reject(err);
        },
      );
    });
  }

  private start(key: string, work: (signal: AbortSignal, emit: (event: E) => void) => Promise<T>): Flight<T, E> {
    const controller = new AbortController();
    const listeners: Array<(event: E) => void> = [];
    const emit = (event: E): void => {
      for (const listener of new Set(listeners)) listener(event);
    };
    const promise = Promise.resolve()
      .then(() => work(controller.signal, emit))
      .finally(() => {
        if (this.flights.get(key) === flight) this.flights.delete(key);
      });
    const flight: Flight<T, E> = { controller, waiters: 0, listeners, promise };
    // Waiters observe the outcome; this keeps an abandoned flight's rejection from going unhandled.
    flight.promise.catch(() => undefined);
    this.flights.set(key, flight);
    return flight;
  }
}

export function canceled(signal: AbortSignal): CanceledError {
  const reason: unknown = signal.reason;
  if (reason instanceof CanceledError) return reason;
  const message = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'operation canceled';
  return new CanceledError(message, { cause: reason });
}
