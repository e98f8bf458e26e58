/**
 * Parser directives (`# syntax=`, `# escape=`, `# check=`) as BuildKit's
 * `directives.go` reads them: only at the very top of the file, the first
 * line that is not a known directive ends the search for good, names are
 * case-insensitive, each may appear once. Also `detectSyntax`, which
 * additionally accepts `//syntax=` lines and a whole-file JSON object.
 */
import { trimLeftSpace } from './go-text.js';
import { LineError, ParseErrorCode } from './errors.js';

export interface Directive {
  /** Lowercased name. */
  name: string;
  value: string;
  /** 1-based line. */
  line: number;
}

const validDirectives = new Set(['syntax', 'escape', 'check']);
// Go RE2 `\s` is [\t\n\f\r ] — narrower than JavaScript's.
const directiveRe = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/s;

/** Stateful line-by-line directive reader (BuildKit's `DirectiveParser`). */
export class DirectiveParser {
  private line: number;
  private done = false;
  private readonly seen = new Set<string>();

  constructor(private readonly comment = '#', startLine = 0) {
    this.line = startLine;
  }

  get isDone(): boolean {
    return this.done;
  }

  /** Feeds one line; returns the directive it holds, if any. Throws on a repeated directive. */
  parseLine(text: string): Directive | undefined {
    this.line++;
    if (this.done) return undefined;
    if (!text.startsWith(this.comment)) {
      this.done = true;
      return undefined;
    }
    const m = directiveRe.exec(trimLeftSpace(text.slice(this.comment.length)));
    const name = m?.[1]?.toLowerCase();
    if (!m || !name || !validDirectives.has(name)) {
      this.done = true;
      return undefined;
    }
    if (this.seen.has(name)) {
      throw new LineError(`only one ${name} parser directive can be used`, ParseErrorCode.RepeatedDirective);
    }
    this.seen.add(name);
    return { name, value: m[2]!, line: this.line };
  }

  /** All directives at the top of `text` (Go's `ParseAll`: lines split at `\n`, `\r` dropped). */
  parseAll(text: string): Directive[] {
    const out: Directive[] = [];
    for (const raw of splitScannerLines(text)) {
      if (this.done) break;
      const d = this.parseLine(raw);
      if (d) out.push(d);
    }
    return out;
  }
}

/** Go `bufio.ScanLines`: split at `\n`, drop one trailing `\r`, no empty final token. */
function splitScannerLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

export interface DetectedDirective {
  /** The value up to its first space (`docker/dockerfile:1 // opts` → `docker/dockerfile:1`). */
  ref: string;
  /** The whole value. */
  cmdline: string;
  /** 1-based line (for the JSON-object form BuildKit reports 0, or 1 after a shebang). */
  line: number;
}

/** The `# syntax=` frontend reference, also from `//syntax=` or `{"syntax": …}` (BuildKit `DetectSyntax`). */
export function detectSyntax(text: string): DetectedDirective | undefined {
  return parseDirective('syntax', text, true);
}

/** One named directive, `#` form only (BuildKit `ParseDirective`, used for `check`). */
export function findDirective(key: string, text: string): DetectedDirective | undefined {
  return parseDirective(key, text, false);
}

function parseDirective(key: string, text: string, anyFormat: boolean): DetectedDirective | undefined {
  let dt = text.startsWith('\ufeff') ? text.slice(1) : text;
  let line = 0;
  const nl = dt.indexOf('\n');
  const first = nl < 0 ? dt : dt.slice(0, nl);
  if (first.startsWith('#!')) {
    dt = nl < 0 ? '' : dt.slice(nl + 1);
    line = 1;
  }
  const fromParser = (comment: string): DetectedDirective | undefined => {
    const parser = new DirectiveParser(comment, line);
    const directives: Directive[] = [];
    try {
      for (const raw of splitScannerLines(dt)) {
        if (parser.isDone) break;
        const d = parser.parseLine(raw);
        if (d) directives.push(d);
      }
    } catch {
      // Go ignores ParseAll's error here and keeps what it found before the repeat.
    }
    const d = directives.find((x) => x.name === key);
    if (!d) return undefined;
    const sp = d.value.indexOf(' ');
    return { ref: sp < 0 ? d.value : d.value.slice(0, sp), cmdline: d.value, line: d.line };
  };
  const hash = fromParser('#');
  if (hash || !anyFormat) return hash;
  const slashes = fromParser('//');
  if (slashes) return slashes;
  try {
    const obj: unknown = JSON.parse(dt);
    if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
      const v = (obj as Record<string, unknown>)[key];
      if (typeof v === 'string') return { ref: v, cmdline: v, line };
    }
  } catch {
    // not JSON: no directive
  }
  return undefined;
}

/** Whether `s` is a valid escape token. */
export function checkEscapeToken(s: string): string {
  if (s !== '`' && s !== '\\') {
    throw new LineError(`invalid escape token '${s}' does not match \` or \\`, ParseErrorCode.InvalidDirective);
  }
  return s;
}
