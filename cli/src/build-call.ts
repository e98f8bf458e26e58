/**
 * `tsbuild build --call outline|targets|check[,format=json]`: buildx's
 * subrequests, answered by the frontend alone (no store, no containers).
 * The structs and their text printers are BuildKit's
 * (frontend/subrequests/outline/outline.go Outline + PrintOutline,
 * targets/targets.go List + PrintTargets, lint/lint.go LintResults +
 * PrintLintViolations); the data comes from what `--print outline` and
 * `--check` already compute (the stage graph, `checkWarnings`).
 *
 * What tsbuild's frontend does not keep is left out, never invented: doc
 * comments (a stage's or an ARG's `Description`), a rule's description, and
 * the `Cache` list of the outline.
 *
 * Exit status: `check` is 1 when there is a violation, as BuildKit's lint
 * result.statuscode (LintResults.ToResult); the others 0. `build` (the default)
 * is not handled here: the command builds.
 */
import { basename } from 'node:path';
import type { Writable } from 'node:stream';
import type { SourceRange } from '@tsbuild/core';
import { parseInstructions, type StageGraph } from '@tsbuild/dockerfile';
import { checkWarnings, stageGraphOf, type FrontendInput } from './build-check.js';
import { escapeControls } from './terminal-text.js';
import { UsageError } from './usage-error.js';

export type CallName = 'build' | 'outline' | 'targets' | 'check';
export interface CallSpec {
  name: CallName;
  format: 'text' | 'json';
}

const CALLS: readonly CallName[] = ['build', 'outline', 'targets', 'check'];

/** `NAME[,format=text|json]`; BuildKit's request names (`lint`) are accepted for `check`'s. */
export function parseCall(value: string): CallSpec {
  const [rawName = '', ...opts] = value.split(',').map((s) => s.trim());
  const name = (rawName === 'lint' ? 'check' : rawName) as CallName;
  if (!CALLS.includes(name)) throw new UsageError(`--call: invalid value ${JSON.stringify(rawName)} (${CALLS.join(', ')})`);
  let format: CallSpec['format'] = 'text';
  for (const opt of opts) {
    const [k, v] = opt.split('=');
    if (k !== 'format' || (v !== 'text' && v !== 'json')) throw new UsageError(`--call: invalid option ${JSON.stringify(opt)} (format=text or format=json)`);
    format = v;
  }
  return { name, format };
}

/** pb.Location as encoding/json writes it (SourceIndex 0 is omitted). */
interface Location {
  ranges: Array<{ start: { line: number; character: number }; end: { line: number; character: number } }>;
}

function location(r: SourceRange): Location {
  return { ranges: [{ start: { ...r.start }, end: { ...r.end } }] };
}

function base64(text: string): string {
  return Buffer.from(text).toString('base64');
}

export function runCall(input: FrontendInput, spec: CallSpec, out: Writable): number {
  const { json, text, status } = answer(input, spec.name);
  // JSON as BuildKit's result.json (json.MarshalIndent with two spaces).
  out.write(spec.format === 'json' ? `${JSON.stringify(json, null, 2)}\n` : escapeControls(text));
  return status;
}

function answer(input: FrontendInput, name: CallName): { json: object; text: string; status: number } {
  switch (name) {
    case 'outline': {
      const o = outlineOf(stageGraphOf(input), input.text);
      return { json: o, text: printOutline(o), status: 0 };
    }
    case 'targets': {
      const l = targetsOf(input);
      return { json: l, text: printTargets(l), status: 0 };
    }
    case 'check': {
      const r = lintOf(input);
      return { json: r, text: printLintViolations(r, input.text), status: r.warnings.length > 0 ? 1 : 0 };
    }
    case 'build':
      throw new Error('--call build is the build itself');
  }
}

// ---- outline (dockerfile2llb/outline.go dispatchState.Outline)

interface Outline {
  name?: string;
  args?: Array<{ name: string; value?: string; location?: Location }>;
  secrets?: Array<{ name: string; required?: boolean; location?: Location }>;
  ssh?: Array<{ name: string; required?: boolean; location?: Location }>;
  sources: string[];
}

/**
 * The args, secrets and ssh ids of every stage the target reaches, each name
 * once (the target's own first, as BuildKit's visited set), sorted by line.
 * An ARG is "used" where a stage declares it (dispatchArg marks it so); a
 * meta ARG read only by a FROM line is not listed.
 */
function outlineOf(graph: StageGraph, text: string): Outline {
  const args = new Map<string, NonNullable<Outline['args']>[number] & { line: number }>();
  const secrets = new Map<string, NonNullable<Outline['secrets']>[number] & { line: number }>();
  const ssh = new Map<string, NonNullable<Outline['ssh']>[number] & { line: number }>();
  const order = [graph.target.index, ...graph.reachable.filter((i) => i !== graph.target.index).reverse()];
  for (const i of order) {
    for (const step of graph.stages[i]!.steps) {
      const at = { location: location(step.range), line: step.range.start.line };
      const e = step.expanded;
      if (e.kind === 'ARG') {
        for (const [k, v] of e.args) if (!args.has(k)) args.set(k, { name: k, ...(v ? { value: v } : {}), ...at });
      } else if (e.kind === 'RUN') {
        for (const m of e.mounts) {
          // A secret's id defaults to its target's base name; an ssh id to "default" (dockerfile2llb dispatchRunMounts).
          const into = m.type === 'secret' ? secrets : m.type === 'ssh' ? ssh : undefined;
          const id = m.id ?? (m.type === 'secret' ? basename(m.target ?? '') : 'default');
          if (into && !into.has(id)) into.set(id, { name: id, ...(m.required ? { required: true } : {}), ...at });
        }
      }
    }
  }
  const sorted = <T extends { line: number }>(m: Map<string, T>) =>
    [...m.values()].sort((a, b) => a.line - b.line).map(({ line: _line, ...rest }) => rest);
  return {
    ...(graph.target.name ? { name: graph.target.name } : {}),
    ...(args.size ? { args: sorted(args) } : {}),
    ...(secrets.size ? { secrets: sorted(secrets) } : {}),
    ...(ssh.size ? { ssh: sorted(ssh) } : {}),
    sources: [base64(text)],
  };
}

/** PrintOutline: a TARGET block when the target is named, then BUILD ARG, SECRET and SSH tables, each followed by a blank line. */
function printOutline(o: Outline): string {
  let out = '';
  if (o.name) out += tabwrite([['TARGET:', o.name]], 1) + '\n';
  if (o.args) out += tabwrite([['BUILD ARG', 'VALUE', 'DESCRIPTION'], ...o.args.map((a) => [a.name, a.value ?? '', ''])], 3) + '\n';
  if (o.secrets) out += tabwrite([['SECRET', 'REQUIRED'], ...o.secrets.map((s) => [s.name, s.required ? 'true' : ''])], 3) + '\n';
  if (o.ssh) out += tabwrite([['SSH', 'REQUIRED'], ...o.ssh.map((s) => [s.name, s.required ? 'true' : ''])], 3) + '\n';
  return out;
}

// ---- targets (dockerfile2llb/convert.go ListTargets: every stage, the last one the default)

interface TargetList {
  targets: Array<{ name?: string; default?: boolean; base?: string; platform?: string; location: Location }>;
  sources: string[];
}

function targetsOf(input: FrontendInput): TargetList {
  const { stages } = parseInstructions(input.text, { file: input.file });
  return {
    targets: stages.map((s, i) => ({
      ...(s.name ? { name: s.name } : {}),
      ...(i === stages.length - 1 ? { default: true } : {}),
      base: s.from.image,
      ...(s.from.platform ? { platform: s.from.platform } : {}),
      location: location(s.from.range),
    })),
    sources: [base64(input.text)],
  };
}

function printTargets(l: TargetList): string {
  const rows = l.targets.map((t) => {
    const name = !t.name && t.default ? '(default)' : t.default ? `${t.name} (default)` : t.name ?? '';
    return [name, ''];
  });
  return tabwrite([['TARGET', 'DESCRIPTION'], ...rows], 1);
}

// ---- check (lint/lint.go LintResults)

interface LintResults {
  warnings: Array<{ ruleName: string; url?: string; detail: string; location: Location & { sourceIndex?: number } }>;
  sources: Array<{ filename: string; language: string; data: string }>;
}

function lintOf(input: FrontendInput): LintResults {
  const { warnings } = checkWarnings(input);
  return {
    // A warning without a range points at no source: sourceIndex -1, as BuildKit's for a whole-file rule.
    warnings: warnings.map((w) => ({
      ruleName: w.rule, ...(w.url ? { url: w.url } : {}), detail: w.message,
      location: w.range ? location(w.range) : { sourceIndex: -1, ranges: [] },
    })),
    sources: [{ filename: input.file, language: 'Dockerfile', data: base64(input.text) }],
  };
}

/** LintResults.PrintTo: warnings by line (unlocated ones first), each as `WARNING: Rule - URL`, its detail and the source snippet. */
function printLintViolations(r: LintResults, text: string): string {
  const lineOf = (w: LintResults['warnings'][number]) => (w.location.sourceIndex === -1 ? -1 : w.location.ranges[0]?.start.line ?? 0);
  const sorted = [...r.warnings].sort((a, b) => lineOf(a) - lineOf(b) || (lineOf(a) < 0 ? a.ruleName.localeCompare(b.ruleName) : 0));
  let out = '';
  for (const w of sorted) {
    out += `\nWARNING: ${w.ruleName}${w.url ? ` - ${w.url}` : ''}\n${w.detail}\n`;
    if (w.location.sourceIndex !== -1) out += printSource(r.sources[0]!.filename, text, w.location.ranges);
  }
  return out;
}

/** errdefs.Source.Print (solver/errdefs/source.go): the ranges' lines marked `>>>`, with context lines around them. */
function printSource(filename: string, text: string, ranges: Location['ranges']): string {
  if (ranges.length === 0) return '';
  const lines = text.split('\n');
  let start = Math.min(...ranges.map((r) => r.start.line));
  let end = Math.max(...ranges.map((r) => Math.max(r.start.line, r.end.line)));
  if (start > lines.length || start < 1) return '';
  end = Math.min(end, lines.length);
  const pad = end === start ? 4 : 2;
  const first = start;
  for (let p = 0; p < pad; p++) {
    if (start > 1) start--, p++;
    if (end !== lines.length) end++, p++;
  }
  const marked = (l: number) => ranges.some((r) => r.start.line <= l && Math.max(r.start.line, r.end.line) >= l);
  let out = `${filename}:${first}\n--------------------\n`;
  for (let i = start; i <= end; i++) out += ` ${String(i).padStart(3)} | ${marked(i) ? '>>>' : '   '} ${lines[i - 1]}\n`;
  return out + '--------------------\n';
}

/**
 * Go's text/tabwriter with minwidth 0, padchar ' ' and no flags, for rows of
 * equal length: every cell but a row's last is padded to its column's widest
 * cell plus `padding` (also when that leaves trailing spaces, as Go's does).
 */
function tabwrite(rows: string[][], padding: number): string {
  const widths = rows[0]!.slice(0, -1).map((_, c) => Math.max(...rows.map((r) => r[c]!.length)) + padding);
  return rows.map((r) => r.map((cell, c) => (c < widths.length ? cell.padEnd(widths[c]!) : cell)).join('') + '\n').join('');
}
