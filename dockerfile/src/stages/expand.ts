/**
 * Word expansion for the stage graph: BuildKit's lexer with the file's escape
 * token, UndefinedVar reported as data, and ShellLexError turned into a
 * DockerfileError at the instruction (`${V:?msg}` failures keep their text).
 */
import { DockerfileError, type SourceRange } from '@tsbuild/core';
import type { Warning } from '../parser/index.js';
import { processWordWithMatches, ShellLexError, type Env, type ProcessWordResult } from '../shell/index.js';
import { NON_ENV_ARGS } from './build-state.js';
import { StageErrorCode } from './dispatch-context.js';
import { lintWarning } from './lint.js';

export interface ExpanderOptions {
  file: string;
  escapeToken: string;
  warnings: Warning[];
}

export class Expander {
  private readonly seen = new Set<string>();
  constructor(private readonly opts: ExpanderOptions) {}

  /**
   * Expands `word` against `env`. Names in `unmatched` that are not in
   * `declared` (ARGs declared without a value are unset yet not "undefined")
   * become UndefinedVar warnings, once per name and instruction.
   */
  expand(word: string, env: Env, range: SourceRange, declared: ReadonlySet<string>, check = true, raw = false): ProcessWordResult {
    if (!word.includes('$') && !word.includes('\'') && !word.includes('"') && !word.includes(this.opts.escapeToken) && !word.includes('\\')) {
      return { result: word, words: word.split(/[ \t\r\n]+/).filter(Boolean), matched: new Set(), unmatched: new Set() };
    }
    let res: ProcessWordResult;
    try {
      // `raw`: BuildKit's ExpandRaw for heredoc bodies — quotes are text, the escape is always `\`.
      const options = raw ? { skipProcessQuotes: true } : { escapeToken: this.opts.escapeToken as '\\' | '`' };
      res = processWordWithMatches(word, env, options);
    } catch (err) {
      if (!(err instanceof ShellLexError)) throw err;
      const code = err.code === 'SHELL_VARIABLE_REQUIRED' ? StageErrorCode.VariableRequired : StageErrorCode.Expansion;
      throw new DockerfileError(err.message, this.opts.file, range, { code, cause: err });
    }
    if (check) {
      for (const name of res.unmatched) {
        if (declared.has(name) || NON_ENV_ARGS.has(name)) continue; // reportUnmatchedVariables skips nonEnvArgs
        const key = `${range.start.line}:${range.start.character}:${name}`;
        if (this.seen.has(key)) continue;
        this.seen.add(key);
        const hint = suggestName(name, env.keys());
        this.opts.warnings.push(lintWarning('UndefinedVar', `Usage of undefined variable '$${name}'${hint ? ` (did you mean $${hint}?)` : ''}`, range));
      }
    }
    return res;
  }
}

/** BuildKit's suggest.Search: the closest name within a small edit distance (case-insensitive). */
export function suggestName(name: string, options: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.min(2, Math.floor(name.length / 2)) + 1;
  for (const o of options) {
    const d = distance(name.toLowerCase(), o.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
