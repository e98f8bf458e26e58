/**
 * `parseInstructions`: BuildKit parse tree → typed instructions grouped into
 * stages (BuildKit `instructions.Parse`). Each FROM opens a stage holding the
 * instructions that follow it; ARGs before the first FROM are the meta args.
 * Positions come from dockerfile-ast via the adapter, joined by start line.
 */
import { locateInstructions, type LocatedInstruction } from '../dockerfile-ast-adapter.js';
import { linesText, parseDockerfile, type Node, type ParsedDirectives, type ParseResult, type Warning } from '../parser/index.js';
import { ParseContext, ruleUrl } from './context.js';
import { InstructionError, InstructionErrorCode } from './errors.js';
import { instructionParserFor, parsers } from './table.js';
import type { ArgInstruction, FromInstruction, Instruction } from './types.js';

export interface Stage {
  /** Position among the stages (what `COPY --from=0` refers to). */
  index: number;
  /** The `AS` name, lowercased. */
  name?: string;
  from: FromInstruction;
  /** The instructions after this FROM, up to the next one. */
  instructions: Instruction[];
}

export interface ParsedInstructions {
  file: string;
  directives: ParsedDirectives;
  escapeToken: string;
  /** Every instruction in source order, FROMs included. */
  instructions: Instruction[];
  /** ARGs before the first FROM. */
  metaArgs: ArgInstruction[];
  stages: Stage[];
  /** The parser's warnings followed by the instruction checks', in source order. */
  warnings: Warning[];
}

export interface ParseInstructionsOptions {
  /** Name for errors and warnings; default `Dockerfile`. */
  file?: string;
  /** The source text, when passing an already parsed result: enables column-precise ranges. */
  text?: string;
}

/**
 * Converts a Dockerfile (text, a `parseDockerfile` result, or just its root
 * node) to typed instructions grouped by stage. Throws an InstructionError
 * (or the parser's DockerfileSyntaxError) at the first invalid instruction.
 */
export function parseInstructions(input: string | ParseResult | Node, options: ParseInstructionsOptions = {}): ParsedInstructions {
  const file = options.file ?? 'Dockerfile';
  const text = typeof input === 'string' ? input : options.text;
  const parsed: ParseResult =
    typeof input === 'string' ? parseDockerfile(input, { file })
    : 'ast' in input ? input
    : { ast: input, directives: { escape: '\\', lines: {} }, escapeToken: '\\', warnings: [] };
  const positions = text === undefined ? new Map<number, LocatedInstruction>() : locateInstructions(text);
  const lines = text?.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const warnings: Warning[] = [];

  const convert = (node: Node, located: LocatedInstruction | undefined): Instruction => {
    const ctx: ParseContext = new ParseContext({ file, node, located, lines, warnings, convert });
    const parse = instructionParserFor(node.value);
    if (!parse) {
      const hint = suggest(node.value);
      ctx.fail(InstructionErrorCode.UnknownInstruction, `unknown instruction: ${node.value}${hint ? ` (did you mean ${hint}?)` : ''}`, ctx.keywordRange);
    }
    return parse(ctx);
  };

  const out: ParsedInstructions = {
    file, directives: parsed.directives, escapeToken: parsed.escapeToken, instructions: [], metaArgs: [], stages: [], warnings,
  };
  for (const node of parsed.ast.children) {
    const located = positions.get(node.startLine);
    const inst = convert(node, located?.keyword.toLowerCase() === node.value.toLowerCase() ? located : undefined);
    out.instructions.push(inst);
    if (inst.kind === 'FROM') {
      out.stages.push({ index: out.stages.length, ...(inst.stageName ? { name: inst.stageName } : {}), from: inst, instructions: [] });
    } else if (out.stages.length > 0) {
      out.stages[out.stages.length - 1]!.instructions.push(inst);
    } else if (inst.kind === 'ARG') {
      out.metaArgs.push(inst);
    } else {
      const range = inst.keywordRange;
      throw new InstructionError('no build stage in current context', file, range, InstructionErrorCode.NoStage,
        linesText(lines, range.start.line, range.end.line));
    }
  }
  casingWarnings(out.instructions, warnings);
  const all = [...parsed.warnings, ...warnings].sort((a, b) => a.range.start.line - b.range.start.line);
  out.warnings = all;
  return out;
}

/** ConsistentInstructionCasing: keywords should follow the file's majority casing. */
function casingWarnings(instructions: readonly Instruction[], warnings: Warning[]): void {
  let lower = 0;
  let upper = 0;
  for (const i of instructions) {
    if (i.keyword === i.keyword.toLowerCase()) lower++;
    else if (i.keyword === i.keyword.toUpperCase()) upper++;
  }
  const majorityLower = lower > upper;
  for (const i of instructions) {
    const casing = majorityLower
      ? (i.keyword !== i.keyword.toLowerCase() ? 'lowercase' : '')
      : (i.keyword !== i.keyword.toUpperCase() ? 'uppercase' : '');
    if (!casing) continue;
    warnings.push({
      rule: 'ConsistentInstructionCasing',
      message: `Command '${i.keyword}' should match the case of the command majority (${casing})`,
      range: i.keywordRange,
      url: ruleUrl('ConsistentInstructionCasing'),
    });
  }
}

/** The closest known keyword within edit distance 2, for "did you mean". */
function suggest(keyword: string): string | undefined {
  const k = keyword.toLowerCase();
  let best: string | undefined;
  let bestD = 3;
  for (const cand of Object.keys(parsers)) {
    const d = editDistance(k, cand);
    if (d < bestD) {
      bestD = d;
      best = cand.toUpperCase();
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
