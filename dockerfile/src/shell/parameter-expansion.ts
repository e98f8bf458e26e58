/**
 * `$NAME` and `${NAME…}`: BuildKit's `processDollar`. The forms:
 * `${V}`; `${V-w}` `${V:-w}` (default); `${V+w}` `${V:+w}` (alternative);
 * `${V?msg}` `${V:?msg}` (required); `${V#p}` `${V##p}` `${V%p}` `${V%%p}`
 * (trim a prefix or suffix); `${V/p/r}` `${V//p/r}` (replace). The colon
 * forms treat "" like unset. The word after the modifier is itself expanded.
 * Assignment (`${V=w}`, `${V:=w}`) and `${V:#p}`/`${V:%p}` are errors.
 */
import { LexFailure } from './errors.js';
import { EOF } from './scanner.js';
import { replaceAll, replaceFirst, trimPrefix, trimSuffix } from './shell-pattern.js';
import type { WordProcessor } from './word-processor.js';

/** Called with the scanner on `$`; returns the expansion. */
export function processDollar(sw: WordProcessor): string {
  const s = sw.scanner;
  s.next();
  if (s.peek() !== '{') {
    const name = sw.processName();
    if (name === '') return '$';
    const value = sw.getEnv(name);
    if (value === undefined && sw.skipUnsetEnv) return `$${name}`;
    return value ?? '';
  }
  s.next();
  const first = s.peek();
  if (first === EOF) throw syntax("syntax error: missing '}'");
  if (first === '{' || first === '}' || first === ':') throw syntax('syntax error: bad substitution');

  const name = sw.processName();
  let ch = s.next();
  let modifier = ch;
  if (ch === '}') {
    const value = sw.getEnv(name);
    if (value === undefined && sw.skipUnsetEnv) return `\${${name}}`;
    return value ?? '';
  }
  if (ch === '/') return substitute(sw, name);
  if (ch === EOF) throw syntax("syntax error: missing '}'");

  let nullIsUnset = false;
  if (ch === ':') {
    nullIsUnset = true;
    ch = s.next();
    modifier += ch;
  }
  if (!['+', '-', '?', '#', '%'].includes(ch) || (nullIsUnset && (ch === '#' || ch === '%'))) {
    throw syntax(`unsupported modifier (${modifier}) in substitution`);
  }
  const rawEscapes = ch === '#' || ch === '%';
  let word = readArgument(sw, '}', rawEscapes, "syntax error: missing '}'");

  const value = sw.getEnv(name);
  if (value === undefined && sw.skipUnsetEnv) return `\${${name}${modifier}${word}}`;
  const unset = value === undefined || (nullIsUnset && value === '');
  switch (ch) {
    case '-':
      return unset ? word : value!;
    case '+':
      return unset ? '' : word;
    case '?':
      if (value === undefined) throw required(name, word || 'is not allowed to be unset');
      if (nullIsUnset && value === '') throw required(name, word || 'is not allowed to be empty');
      return value;
    default: {
      // `#`/`%` shortest match, `##`/`%%` longest
      const greedy = word.startsWith(ch);
      if (greedy) word = word.slice(1);
      return ch === '%' ? trimSuffix(word, value ?? '', greedy) : trimPrefix(word, value ?? '', greedy);
    }
  }
}

/** `${V/p/r}` and `${V//p/r}`, with the scanner after the first `/`. */
function substitute(sw: WordProcessor, name: string): string {
  const s = sw.scanner;
  const all = s.peek() === '/';
  if (all) s.next();
  const pattern = readArgument(sw, '/', true, "syntax error: missing '/' in ${}");
  const replacement = readArgument(sw, '}', true, "syntax error: missing '}'");
  const value = sw.getEnv(name);
  if (value === undefined && sw.skipUnsetEnv) return `\${${name}/${pattern}/${replacement}}`;
  return all ? replaceAll(pattern, value ?? '', replacement) : replaceFirst(pattern, value ?? '', replacement);
}

/** Reads a nested word up to `stop`; running out of input reports `missing`. */
function readArgument(sw: WordProcessor, stop: string, rawEscapes: boolean, missing: string): string {
  try {
    return sw.processStopOn(stop, rawEscapes).result;
  } catch (err) {
    if (sw.scanner.peek() === EOF) throw syntax(missing);
    throw err;
  }
}

function syntax(reason: string): LexFailure {
  return new LexFailure('SHELL_SYNTAX', reason);
}

function required(name: string, message: string): LexFailure {
  return new LexFailure('SHELL_VARIABLE_REQUIRED', `${name}: ${message}`);
}
