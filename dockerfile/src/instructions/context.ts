/**
 * What every instruction parser receives: the BuildKit node, the
 * dockerfile-ast positions joined to it, and helpers to fail or warn with a
 * precise range. Keeps the per-instruction modules to their own rules.
 */
import { rangeOf, type SourceRange } from '@tsbuild/core';
import type { LocatedInstruction } from '../dockerfile-ast-adapter.js';
import { linesText, nextValues, type Node, type Warning } from '../parser/index.js';
import { InstructionError, InstructionErrorCode } from './errors.js';
import { parseFlags, type FlagSpec, type FlagValues } from './flags.js';
import type { InstructionBase, Instruction } from './types.js';

export const ruleUrl = (rule: string): string =>
  `https://docs.docker.com/go/dockerfile/rule/${rule
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase()}/`;

export interface ContextInput {
  file: string;
  node: Node;
  located: LocatedInstruction | undefined;
  /** The file's lines (for error snippets). */
  lines: readonly string[];
  warnings: Warning[];
  /** Parses ONBUILD's trigger. */
  convert(node: Node, located: LocatedInstruction | undefined): Instruction;
}

export class ParseContext {
  readonly file: string;
  readonly node: Node;
  readonly located: LocatedInstruction | undefined;
  /** BuildKit's argument chain. */
  readonly args: string[];
  readonly json: boolean;
  readonly range: SourceRange;
  readonly keywordRange: SourceRange;

  constructor(private readonly input: ContextInput) {
    this.file = input.file;
    this.node = input.node;
    this.located = input.located;
    this.args = nextValues(input.node);
    this.json = input.node.attributes.json === true;
    const { startLine, endLine } = input.node;
    // Without the text (a parse result passed alone), a one-line instruction is as long as its original.
    const lastText = input.lines[endLine - 1] ?? (startLine === endLine ? input.node.original : '');
    this.range = input.located?.range ?? rangeOf(startLine, 0, endLine, lastText.replace(/\r?\n$/, '').length);
    this.keywordRange = input.located?.keywordRange ?? rangeOf(startLine, 0, startLine, input.node.value.length);
  }

  /** The range of argument `i` as dockerfile-ast saw it, else the whole instruction. */
  argRange(i: number): SourceRange {
    const a = this.located?.args[i];
    return a ? a.range : this.range;
  }

  /**
   * The range of the last argument written as `value`, else the instruction.
   * (dockerfile-ast also lists heredoc body words as arguments, so the last
   * one by position is not always the last BuildKit argument.)
   */
  argRangeOf(value: string): SourceRange {
    const args = this.located?.args ?? [];
    for (let i = args.length - 1; i >= 0; i--) if (args[i]!.value === value) return args[i]!.range;
    return this.range;
  }

  fail(code: InstructionErrorCode, message: string, range: SourceRange = this.range): never {
    throw new InstructionError(message, this.file, range, code, linesText(this.input.lines, range.start.line, range.end.line));
  }

  warn(rule: string, message: string, range: SourceRange = this.range): void {
    this.input.warnings.push({ rule, message, range, url: ruleUrl(rule) });
  }

  /** Validates the node's flags against `spec` (BuildKit `BFlags.Parse`). */
  flags(spec: FlagSpec): FlagValues {
    return parseFlags(this, spec);
  }

  /** The common fields; `kind` is the canonical keyword. */
  base<K extends string>(kind: K, flags: FlagValues | undefined): InstructionBase & { kind: K } {
    return {
      kind,
      keyword: this.node.value,
      original: this.node.original,
      range: this.range,
      keywordRange: this.keywordRange,
      flags: flags?.list ?? [],
    };
  }

  /** Fails unless the instruction has no flags (those that take none). */
  noFlags(): undefined {
    parseFlags(this, {});
    return undefined;
  }

  parseTrigger(node: Node, located: LocatedInstruction | undefined): Instruction {
    return this.input.convert(node, located);
  }
}
