/**
 * `parseDockerfile`: text → BuildKit's parse tree, following BuildKit's
 * `parser.Parse` line loop exactly — directives at the top, comments dropped
 * even inside continuations, continuation lines joined without a separator
 * (only the first line is left-trimmed), empty continuation lines skipped
 * with a warning, heredoc bodies read after their instruction line.
 * Conformance data: shared/conformance sections 1, 2, 3, 6, 9.
 */
import { rangeOf } from '@tsbuild/core';
import { checkEscapeToken, DirectiveParser } from './directives.js';
import { DockerfileSyntaxError, LineError, linesText, ParseErrorCode, withLocation } from './errors.js';
import { isGoSpace, trimLeftSpace } from './go-text.js';
import { heredocCompoundKeywords, heredocKeywords, heredocsFromLine } from './heredoc.js';
import { lineParserFor } from './line-parsers.js';
import { newNode, type Node, type Warning } from './node.js';
import { splitCommand } from './split-command.js';

export interface ParseOptions {
  /** Name used in errors and warnings; default `Dockerfile`. */
  file?: string;
}

export interface ParsedDirectives {
  syntax?: string;
  /** Always set: the default is `\`. */
  escape: string;
  check?: string;
  /** 1-based line of each directive seen, by name. */
  lines: Record<string, number>;
}

export interface ParseResult {
  /** The root: `children` are the instructions; start/end lines span them. */
  ast: Node;
  directives: ParsedDirectives;
  escapeToken: string;
  warnings: Warning[];
}

/** Go bufio.MaxScanTokenSize - 1: the longest line Go's scanner accepts. */
export const maxLineBytes = 65535;

const NO_EMPTY_CONTINUATION_URL = 'https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/';

export function parseDockerfile(text: string, options: ParseOptions = {}): ParseResult {
  const file = options.file ?? 'Dockerfile';
  const lines = scanLines(text);
  const directiveParser = new DirectiveParser();
  const directives: ParsedDirectives = { escape: '\\', lines: {} };
  let continuation = continuationRegex('\\');
  const root = newNode();
  root.startLine = -1;
  const warnings: Warning[] = [];
  let comments: string[] = [];
  let next = 0; // index of the next line to scan
  let currentLine = 0;
  let tooLong = false;

  const scan = (): string | undefined => {
    if (tooLong || next >= lines.length) return undefined;
    const raw = lines[next]!;
    if (Buffer.byteLength(raw.replace(/\n$/, ''), 'utf8') > maxLineBytes) {
      tooLong = true;
      return undefined;
    }
    next++;
    return raw;
  };
  const processLine = (raw: string, stripLeft: boolean): string => {
    let token = trimNewline(raw);
    if (stripLeft) token = trimLeftSpace(token);
    try {
      const d = directiveParser.parseLine(token);
      if (d) {
        if (d.name === 'escape') {
          directives.escape = checkEscapeToken(d.value);
          continuation = continuationRegex(directives.escape);
        } else if (d.name === 'syntax') directives.syntax = d.value;
        else if (d.name === 'check') directives.check = d.value;
        directives.lines[d.name] = d.line;
      }
    } catch (err) {
      withLocation(err, file, lines, currentLine + 1, currentLine + 1); // the line being read (Go reports the one before)
    }
    return token.startsWith('#') ? '' : token;
  };
  const trimContinuation = (line: string): [string, boolean] => {
    if (continuation.test(line)) return [line.replace(continuation, '$1'), false];
    return [line, true];
  };

  for (let raw = scan(); raw !== undefined; raw = scan()) {
    if (currentLine === 0 && raw.startsWith('\ufeff')) raw = raw.slice(1);
    // BuildKit trims the raw line minus its first byte, so an indented "  # x" keeps its "#".
    if (isComment(raw)) comments.push(trimSpaceGo(raw.slice(1)));
    const first = processLine(raw, true);
    currentLine++;
    const startLine = currentLine;
    let [line, isEnd] = trimContinuation(first);
    if (isEnd && line === '') continue;

    let hasEmptyContinuation = false;
    while (!isEnd) {
      const cont = scan();
      if (cont === undefined) break;
      const processed = processLine(cont, false);
      currentLine++;
      if (isComment(cont)) continue;
      if (trimLeftSpace(trimNewline(processed)) === '') {
        hasEmptyContinuation = true;
        continue;
      }
      let piece: string;
      [piece, isEnd] = trimContinuation(processed);
      line += piece;
    }
    if (hasEmptyContinuation) {
      warnings.push({
        rule: 'NoEmptyContinuation',
        message: 'Empty continuation line found in: ' + line,
        detail: 'Empty continuation lines will become errors in a future release',
        url: NO_EMPTY_CONTINUATION_URL,
        range: rangeOf(startLine, 0, currentLine, 0),
      });
    }

    let child: Node;
    try {
      child = nodeFromLine(line, directives.escape, comments);
      if (canContainHeredoc(child)) {
        for (const h of heredocsFromLine(line)) {
          let content = '';
          let terminated = false;
          for (let body = scan(); body !== undefined; body = scan()) {
            currentLine++;
            let candidate = trimNewline(body);
            if (h.chomp) candidate = candidate.replace(/^\t+/, '');
            if (candidate === h.name) {
              terminated = true;
              break;
            }
            content += body;
          }
          if (!terminated) throw new LineError('unterminated heredoc', ParseErrorCode.UnterminatedHeredoc, heredocColumn(lines[startLine - 1] ?? '', h.name));
          child.heredocs.push({ ...h, content });
        }
      }
    } catch (err) {
      withLocation(err, file, lines, startLine, currentLine);
    }
    child.startLine = startLine;
    child.endLine = currentLine;
    if (root.startLine < 0) root.startLine = startLine;
    root.endLine = currentLine;
    root.children.push(child);
    comments = [];
  }

  if (root.startLine < 0) {
    const line = Math.max(currentLine, 1);
    throw new DockerfileSyntaxError('file with no instructions', file, rangeOf(line, 0, line, 0), ParseErrorCode.Empty, linesText(lines, line, line));
  }
  if (tooLong) {
    const line = currentLine + 1;
    throw new DockerfileSyntaxError(`dockerfile line greater than max allowed size of ${maxLineBytes}`, file, rangeOf(line, 0, line, 0),
      ParseErrorCode.LineTooLong, linesText(lines, line, line).slice(0, 200));
  }
  return { ast: root, directives, escapeToken: directives.escape, warnings };
}

/** One instruction line → its node (keyword, flags, argument chain); also used for ONBUILD triggers. */
export function nodeFromLine(line: string, escapeToken: string, comments: string[] = []): Node {
  const { cmd, flags, args } = splitCommand(line);
  const parsed = lineParserFor(cmd)(args, {
    escapeToken,
    nodeFromLine: (sub) => nodeFromLine(sub, escapeToken),
  });
  const node = newNode(cmd, parsed.next);
  node.original = line;
  node.flags = flags;
  node.attributes = parsed.attributes;
  node.prevComment = comments;
  return node;
}

function canContainHeredoc(node: Node): boolean {
  let n = node;
  if (heredocCompoundKeywords.has(n.value.toLowerCase()) && n.next && n.next.children.length > 0) {
    n = n.next.children[0]!;
  }
  return heredocKeywords.has(n.value.toLowerCase()) && !n.attributes.json;
}

/**
 * A continuation: the escape token, then only spaces/tabs, not itself
 * escaped. Both branches of BuildKit's regex; `$1` keeps the character before.
 */
function continuationRegex(escape: string): RegExp {
  const e = escape === '\\' ? '\\\\' : escape;
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

/** Lines with their `\n` kept (BuildKit's `scanLines`), so heredoc bodies stay byte-exact. */
function scanLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl + 1;
    out.push(text.slice(start, end));
    start = end;
  }
  return out;
}

function trimNewline(s: string): string {
  return s.replace(/[\r\n]+$/, '');
}

function isComment(raw: string): boolean {
  return trimLeftSpace(trimNewline(raw)).startsWith('#');
}

function trimSpaceGo(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isGoSpace(s.charCodeAt(a))) a++;
  while (b > a && isGoSpace(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

/** Where `<<NAME` (`<<-NAME`, `<<"NAME"`, `3<<NAME`) starts in the line, or undefined (then the instruction's start is used). */
function heredocColumn(line: string, name: string): number | undefined {
  for (let at = line.indexOf('<<'); at >= 0; at = line.indexOf('<<', at + 2)) {
    const word = line.slice(at + 2).replace(/^-?[\t ]*/, '').replace(/^['"]/, '');
    if (word.startsWith(name)) {
      let start = at;
      while (start > 0 && /\d/.test(line[start - 1]!)) start--;
      return start;
    }
  }
  return undefined;
}
