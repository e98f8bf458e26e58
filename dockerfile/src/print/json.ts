/** `printJson`: the typed stage graph as JSON (the typed instructions left out: ranges and raw text remain). */
import type { StageGraph } from '../stages/index.js';

export function printJson(graph: StageGraph): string {
  return `${JSON.stringify(graph, (key, value: unknown) => {
    if (key === 'instruction') return undefined;
    if (value instanceof Set) return [...value];
    if (value instanceof Map) return Object.fromEntries(value);
    return value;
  }, 2)}\n`;
}
