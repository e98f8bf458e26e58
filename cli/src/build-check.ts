/**
 * `tsbuild build --print` and `--check`: run only the frontend (parse, stage
 * graph, build checks) — no store, no containers.
 *
 * --check honours the Dockerfile's `# check=skip=Rule1,Rule2;error=true`
 * directive as BuildKit does: skipped rules are not reported, and with
 * `error=true` every reported warning is of error level and fails the check.
 * Exit codes: 0 clean or warnings only, 1 when a warning is of error level;
 * a Dockerfile that does not parse throws its DockerfileError (main prints
 * `error: Dockerfile:3:1: …` with the snippet and exits 1).
 */
import type { Writable } from 'node:stream';
import type { BuildWarning } from '@tsbuild/builder';
import { buildStageGraph, findDirective, printStageGraph, type PrintFormat, type StageGraph } from '@tsbuild/dockerfile';
import { warningLocation } from './progress/format.js';
import { escapeControls } from './terminal-text.js';

export interface FrontendInput {
  text: string;
  /** How the Dockerfile is named in messages (`Dockerfile`, `sub/Dockerfile.dev`). */
  file: string;
  buildArgs?: Record<string, string>;
  target?: string;
}

export function stageGraphOf(input: FrontendInput): StageGraph {
  return buildStageGraph({
    dockerfile: input.text, file: input.file,
    ...(input.buildArgs ? { buildArgs: input.buildArgs } : {}),
    ...(input.target !== undefined ? { target: input.target } : {}),
  });
}

export function runPrint(input: FrontendInput, format: PrintFormat, out: Writable): number {
  const text = printStageGraph(stageGraphOf(input), format);
  out.write(text.endsWith('\n') ? text : text + '\n');
  return 0;
}

export interface CheckConfig {
  skip: Set<string> | 'all';
  error: boolean;
}

/** BuildKit's `check` directive: `skip=A,B;error=true` (either part optional; `skip=all`). */
export function parseCheckDirective(value: string | undefined): CheckConfig {
  const config: CheckConfig = { skip: new Set(), error: false };
  for (const part of (value ?? '').split(';')) {
    const [k, v = ''] = part.split('=').map((s) => s.trim()) as [string, string?];
    if (k === 'skip') config.skip = v === 'all' ? 'all' : new Set(v.split(',').map((s) => s.trim()).filter(Boolean));
    else if (k === 'error') config.error = v === 'true';
  }
  return config;
}

/** The warnings a check reports, after the directive's skips. */
export function checkWarnings(input: FrontendInput): { warnings: BuildWarning[]; config: CheckConfig } {
  const config = parseCheckDirective(findDirective('check', input.text)?.cmdline);
  const graph = stageGraphOf(input);
  const all: BuildWarning[] = graph.warnings.map((w) => ({ rule: w.rule, message: w.message, file: input.file, range: w.range, ...(w.url ? { url: w.url } : {}) }));
  const skip = config.skip;
  const warnings = skip === 'all' ? [] : all.filter((w) => !skip.has(w.rule));
  return { warnings, config };
}

export function runCheck(input: FrontendInput, out: Writable): number {
  const { warnings, config } = checkWarnings(input);
  const level = config.error ? 'error' : 'warning';
  for (const w of warnings) {
    out.write(escapeControls(`${warningLocation(w, input.file)}: ${level}: ${w.rule}: ${w.message}${w.url ? ` (${w.url})` : ''}`) + '\n');
  }
  if (warnings.length === 0) {
    out.write('Check complete, no warnings found.\n');
    return 0;
  }
  const n = warnings.length;
  out.write(`Check complete, ${n} ${n === 1 ? 'warning has' : 'warnings have'} been found!\n`);
  return config.error ? 1 : 0;
}
