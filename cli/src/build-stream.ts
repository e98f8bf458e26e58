/**
 * The build API as an async iterator of its progress events:
 *
 *   const run = buildWithEvents({ context: 'app', tags: ['app:dev'] });
 *   for await (const event of run.events) render(event);
 *   const result = await run.result;
 *
 * `events` ends when the build settles; `result` rejects with the build's
 * error (it is also handled, so a caller that only iterates sees no
 * unhandled rejection). Events are buffered, never dropped, so a slow
 * consumer sees every one in order.
 */
import type { BuildEvent, BuildResult } from '@tsbuild/builder';
import { build, type ApiBuildOptions } from './api.js';

export interface BuildRun {
  events: AsyncIterableIterator<BuildEvent>;
  result: Promise<BuildResult>;
}

export function buildWithEvents(options: ApiBuildOptions): BuildRun {
  const queue: BuildEvent[] = [];
  let done = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const result = build({
    ...options,
    onEvent: (e) => {
      options.onEvent?.(e);
      queue.push(e);
      notify();
    },
  }).finally(() => {
    done = true;
    notify();
  });
  result.catch(() => undefined);

  async function* iterate(): AsyncGenerator<BuildEvent> {
    for (;;) {
      while (queue.length > 0) yield queue.shift()!;
      if (done) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  return { events: iterate(), result };
}
