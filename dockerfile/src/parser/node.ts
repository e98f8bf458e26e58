/**
 * BuildKit's parse tree (`parser.Node`), field for field. The shape is
 * deliberately BuildKit's odd s-expression list — `value` plus a `next` chain
 * of arguments, `children` for the root and for ONBUILD's wrapper — because
 * the conformance dumps, and everything downstream that BuildKit users rely
 * on, are defined in terms of it.
 */
import type { SourceRange } from '@tsbuild/core';

/** A heredoc attached to RUN/COPY/ADD (`<<EOF` … `EOF`). */
export interface Heredoc {
  /** The terminator word with quotes removed. */
  name: string;
  /** `N<<EOF` gives N; 0 when absent. */
  fileDescriptor: number;
  /** False when any part of the word was quoted (`<<'EOF'`): no variable expansion of the body. */
  expand: boolean;
  /** `<<-`: leading tabs are stripped when the body is used (content is stored unchomped). */
  chomp: boolean;
  /** Every raw line of the body, each with its line ending. */
  content: string;
}

export interface Node {
  /** The keyword as written (top-level nodes) or an argument value. */
  value: string;
  /** The next argument in the chain; null at the end. */
  next: Node | null;
  /** Instructions of the root; the sub-instruction of ONBUILD's wrapper node. */
  children: Node[];
  heredocs: Heredoc[];
  /** `json: true` when the arguments came from a JSON array (exec form). */
  attributes: { json?: boolean };
  /** The instruction line after continuation processing (top-level nodes). */
  original: string;
  /** Leading `--flag[=value]` words with quotes and escapes processed; `--` dropped. */
  flags: string[];
  /** 1-based first line; for the root, the first instruction's line. */
  startLine: number;
  /** 1-based last line consumed, continuation and heredoc lines included. */
  endLine: number;
  /** Comment lines directly before the instruction, `#` and surrounding space removed. */
  prevComment: string[];
}

/** A build-check style warning: data, not text on stderr. */
export interface Warning {
  /** BuildKit check name, e.g. `NoEmptyContinuation`. */
  rule: string;
  message: string;
  range: SourceRange;
  url?: string;
  detail?: string;
}

export function newNode(value = '', next: Node | null = null): Node {
  return {
    value, next, children: [], heredocs: [], attributes: {}, original: '', flags: [],
    startLine: 0, endLine: 0, prevComment: [],
  };
}

/** The argument chain as a flat list of values. */
export function nextValues(node: Node): string[] {
  const out: string[] = [];
  for (let n = node.next; n; n = n.next) out.push(n.value);
  return out;
}
