/** Printing a stage graph for `tsbuild build --print=outline|dot|json`. */
import type { StageGraph } from '../stages/index.js';
import { printDot } from './dot.js';
import { printJson } from './json.js';
import { printOutline } from './outline.js';

export type PrintFormat = 'outline' | 'dot' | 'json';

export function printStageGraph(graph: StageGraph, format: PrintFormat): string {
  switch (format) {
    case 'outline':
      return printOutline(graph);
    case 'dot':
      return printDot(graph);
    case 'json':
      return printJson(graph);
  }
}

export { printDot, printJson, printOutline };
export { describeStep } from './outline.js';
