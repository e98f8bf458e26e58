/**
 * Solver events → build events: the same vertex events with the time, the
 * vertex digest as id, logs decoded as UTF-8 and misses explained in words.
 */
import type { SolveEvent } from '../solver/index.js';
import type { BuildEvent } from './events.js';
import { explainText } from './explain-text.js';

export function toBuildEvent(e: SolveEvent): BuildEvent {
  const time = Date.now();
  const { digest: id, name } = e.vertex;
  switch (e.type) {
    case 'vertex.started':
      return { type: e.type, time, id, name };
    case 'vertex.cached':
      return { type: e.type, time, id, name };
    case 'vertex.completed':
      return { type: e.type, time, id, name, durationMs: e.durationMs };
    case 'vertex.failed':
      return { type: e.type, time, id, name, durationMs: e.durationMs, message: e.error.message };
    case 'vertex.log':
      return { type: e.type, time, id, name, stream: e.stream, data: typeof e.data === 'string' ? e.data : Buffer.from(e.data).toString('utf8') };
    case 'vertex.explain':
      return { type: e.type, time, id, name, reasons: e.reasons, text: explainText(e.reasons) };
  }
}
