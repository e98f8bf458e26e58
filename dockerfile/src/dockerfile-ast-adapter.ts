/**
 * The one importer of `dockerfile-ast`. The split of work:
 *
 * - The **structure** of the parse (which lines form an instruction, the
 *   argument chain, JSON-form fallback, heredoc bodies, directives) comes from
 *   `parser/`, a port of BuildKit's own algorithm, because it must match
 *   BuildKit's dumps byte for byte (shared/conformance) and dockerfile-ast
 *   follows its own, editor-oriented rules at the edges.
 * - The **columns** come from here. BuildKit's AST only knows whole lines; an
 *   error or warning should point at the keyword, the flag or the argument
 *   that is wrong (`Dockerfile:4:5`). dockerfile-ast keeps an LSP range for
 *   every keyword, flag (name and value) and argument, across continuation
 *   lines, so `instructions/` joins its ranges to BuildKit nodes by start line.
 *   When dockerfile-ast saw no instruction on a BuildKit node's line (it
 *   disagrees on some exotic input), callers fall back to whole-line ranges.
 *
 * Ranges returned use core's convention: line 1-based, character 0-based.
 */
import { DockerfileParser, type Instruction, type ModifiableInstruction, type Onbuild } from 'dockerfile-ast';
import type { SourceRange } from '@tsbuild/core';

export interface LocatedWord {
  value: string;
  range: SourceRange;
}

export interface LocatedFlag {
  name: string;
  /** null for a bare `--flag`. */
  value: string | null;
  /** `--name=value` as a whole. */
  range: SourceRange;
  nameRange: SourceRange;
  valueRange: SourceRange | null;
}

export interface LocatedInstruction {
  /** 1-based line where the instruction starts (the join key with BuildKit nodes). */
  line: number;
  keyword: string;
  range: SourceRange;
  keywordRange: SourceRange;
  /** Arguments after the flags, as dockerfile-ast splits them (positions only; values are BuildKit's). */
  args: LocatedWord[];
  flags: LocatedFlag[];
  /** ONBUILD's trigger instruction. */
  trigger?: LocatedInstruction;
}

interface LspRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

function toRange(r: LspRange): SourceRange {
  return {
    start: { line: r.start.line + 1, character: r.start.character },
    end: { line: r.end.line + 1, character: r.end.character },
  };
}

function hasFlags(i: Instruction): i is ModifiableInstruction {
  return typeof (i as Partial<ModifiableInstruction>).getFlags === 'function';
}

function isOnbuild(i: Instruction): i is Onbuild {
  return typeof (i as Partial<Onbuild>).getTriggerInstruction === 'function';
}

function locate(i: Instruction): LocatedInstruction {
  const range = toRange(i.getRange());
  const located: LocatedInstruction = {
    line: range.start.line,
    keyword: i.getKeyword(),
    range,
    keywordRange: toRange(i.getInstructionRange()),
    args: i.getArguments().map((a) => ({ value: a.getValue(), range: toRange(a.getRange()) })),
    flags: hasFlags(i)
      ? i.getFlags().map((f) => {
          const valueRange = f.getValueRange();
          return {
            name: f.getName(),
            value: f.getValue(),
            range: toRange(f.getRange()),
            nameRange: toRange(f.getNameRange()),
            valueRange: valueRange ? toRange(valueRange) : null,
          };
        })
      : [],
  };
  if (isOnbuild(i)) {
    const trigger = i.getTriggerInstruction();
    if (trigger) {
      located.trigger = locate(trigger);
      // dockerfile-ast also lists the trigger's flags among ONBUILD's arguments; drop them there.
      const flagStarts = new Set(located.trigger.flags.map((f) => key(f.range)));
      located.args = located.args.filter((a) => !flagStarts.has(key(a.range)));
    }
  }
  return located;
}

const key = (r: SourceRange) => `${r.start.line}:${r.start.character}`;

/** Positions of every instruction in `text`, keyed by 1-based start line. */
export function locateInstructions(text: string): Map<number, LocatedInstruction> {
  const out = new Map<number, LocatedInstruction>();
  for (const i of DockerfileParser.parse(text).getInstructions()) {
    const located = locate(i);
    out.set(located.line, located);
  }
  return out;
}
