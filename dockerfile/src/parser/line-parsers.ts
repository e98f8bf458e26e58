/**
 * Per-instruction argument parsers (BuildKit `line_parsers.go`), found
 * through {@link dispatch}, a table keyed by the lowercased keyword. Each
 * receives the text after keyword and flags and returns the head of the
 * argument chain plus attributes. Unknown keywords get one empty argument.
 */
import { isGoSpace, splitWhitespace, splitWhitespaceOnce, trimLeftSpace } from './go-text.js';
import { LineError, ParseErrorCode } from './errors.js';
import { newNode, type Node } from './node.js';

export interface LineContext {
  escapeToken: string;
  /** Builds the node of a whole sub-instruction line (ONBUILD's trigger). */
  nodeFromLine(line: string): Node;
}

export interface LineResult {
  next: Node | null;
  attributes: { json?: boolean };
}

type LineParser = (rest: string, ctx: LineContext) => LineResult;

const plain = (next: Node | null): LineResult => ({ next, attributes: {} });

function chain(values: readonly string[]): Node | null {
  let head: Node | null = null;
  for (let i = values.length - 1; i >= 0; i--) head = newNode(values[i], head);
  return head;
}

/**
 * The quote-aware word splitter of ENV/LABEL/ARG: splits on whitespace
 * outside quotes, keeps quotes and escapes in the words.
 */
export function parseWords(rest: string, escapeToken = '\\'): string[] {
  const chars = Array.from(rest);
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOK = false;
  let word = '';
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = pos < chars.length ? chars[pos]! : '';
    if (phase === 'spaces') {
      if (pos === chars.length) break;
      if (isGoSpace(ch.codePointAt(0)!)) continue;
      phase = 'word';
    }
    if (pos === chars.length) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isGoSpace(ch.codePointAt(0)!)) {
        phase = 'spaces';
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      }
      if (ch === escapeToken) {
        if (pos + 1 === chars.length) continue; // an escape at the end is dropped
        word += ch;
        pos++;
        ch = chars[pos]!;
      }
      word += ch;
      continue;
    }
    // in a quote
    if (ch === quote) phase = 'word';
    if (ch === escapeToken && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      pos++;
      word += ch;
      ch = chars[pos]!;
    }
    word += ch;
  }
  return words;
}

/** ENV/LABEL: `key value` (old form, 3 nodes ending in "") or `k=v …` (triples ending in "="). */
export function parseNameVal(rest: string, key: string, escapeToken = '\\'): Node | null {
  const words = parseWords(rest, escapeToken);
  if (words.length === 0) return null;
  if (!words[0]!.includes('=')) {
    const parts = splitWhitespaceOnce(rest);
    if (parts.length < 2) {
      throw new LineError(`${key} must have two arguments`, ParseErrorCode.MissingArguments);
    }
    return chain([parts[0]!, parts[1]!, '']);
  }
  const values: string[] = [];
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0) {
      throw new LineError(
        `Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`,
        ParseErrorCode.InvalidKeyValue,
      );
    }
    values.push(word.slice(0, eq), word.slice(eq + 1), '=');
  }
  return chain(values);
}

export class NotJsonArrayError extends Error {}

/**
 * The exec (JSON) form. Throws {@link NotJsonArrayError} when `rest` is not a
 * JSON array at all (the caller falls back to shell form) and a LineError
 * when it is an array holding a non-string (fatal, as in BuildKit).
 */
export function parseJSON(rest: string): string[] {
  const text = trimLeftSpace(rest);
  if (!text.startsWith('[')) throw new NotJsonArrayError('not a JSON array');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new NotJsonArrayError((err as Error).message);
  }
  if (!Array.isArray(parsed)) throw new NotJsonArrayError('not a JSON array');
  if (!parsed.every((v) => typeof v === 'string')) {
    throw new LineError(
      'when using JSON array syntax, arrays must be comprised of strings only',
      ParseErrorCode.JsonNotStrings,
    );
  }
  return parsed as string[];
}

function tryJSON(rest: string): string[] | undefined {
  try {
    return parseJSON(rest);
  } catch (err) {
    if (err instanceof NotJsonArrayError) return undefined;
    throw err;
  }
}

const parseIgnore: LineParser = () => plain(newNode());

const parseSubCommand: LineParser = (rest, ctx) => {
  if (rest === '') return plain(null);
  const wrapper = newNode();
  wrapper.children.push(ctx.nodeFromLine(rest));
  return plain(wrapper);
};

const parseNameOrNameVal: LineParser = (rest, ctx) => plain(chain(parseWords(rest, ctx.escapeToken)));

const parseStringsWhitespaceDelimited: LineParser = (rest) =>
  plain(rest === '' ? null : chain(splitWhitespace(rest)));

const parseString: LineParser = (rest) => plain(rest === '' ? null : newNode(rest));

export const parseMaybeJSON: LineParser = (rest) => {
  if (rest === '') return plain(null);
  const json = tryJSON(rest);
  if (json) return { next: chain(json), attributes: { json: true } };
  return plain(newNode(rest));
};

const parseMaybeJSONToList: LineParser = (rest, ctx) => {
  const json = tryJSON(rest);
  if (json) return { next: chain(json), attributes: { json: true } };
  return parseStringsWhitespaceDelimited(rest, ctx);
};

/** HEALTHCHECK: the type word (`CMD`, `NONE`), then the CMD rule on the remainder (byte-wise, as Go). */
const parseHealthConfig: LineParser = (rest, ctx) => {
  const bytes = Buffer.from(rest, 'utf8');
  let sep = 0;
  while (sep < bytes.length && !isGoSpace(bytes[sep]!)) sep++;
  let next = sep;
  while (next < bytes.length && isGoSpace(bytes[next]!)) next++;
  if (sep === 0) return plain(null);
  const cmd = parseMaybeJSON(bytes.subarray(next).toString('utf8'), ctx);
  return { next: newNode(bytes.subarray(0, sep).toString('utf8'), cmd.next), attributes: cmd.attributes };
};

/** Keyword (lowercase) → argument parser. Anything else is kept with one empty argument. */
export const dispatch: Readonly<Record<string, LineParser>> = {
  add: parseMaybeJSONToList,
  arg: parseNameOrNameVal,
  cmd: parseMaybeJSON,
  copy: parseMaybeJSONToList,
  entrypoint: parseMaybeJSON,
  env: (rest, ctx) => plain(parseNameVal(rest, 'ENV', ctx.escapeToken)),
  expose: parseStringsWhitespaceDelimited,
  from: parseStringsWhitespaceDelimited,
  healthcheck: parseHealthConfig,
  label: (rest, ctx) => plain(parseNameVal(rest, 'LABEL', ctx.escapeToken)),
  maintainer: parseString,
  onbuild: parseSubCommand,
  run: parseMaybeJSON,
  shell: parseMaybeJSON,
  stopsignal: parseString,
  user: parseString,
  volume: parseMaybeJSONToList,
  workdir: parseString,
};

export function lineParserFor(keyword: string): LineParser {
  return Object.hasOwn(dispatch, keyword.toLowerCase()) ? dispatch[keyword.toLowerCase()]! : parseIgnore;
}
