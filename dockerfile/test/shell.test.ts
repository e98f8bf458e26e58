/**
 * The shell-word lexer's options, errors and the corners the upstream vectors
 * leave out. Expected values follow BuildKit's lex.go.
 */
import { expect } from 'chai';
import { isInvalidArgument } from '@tsbuild/core';
import { envFromRecord, envFromSlice, processWord, processWords, processWordWithMatches, ShellLexer, ShellLexError } from '../src/shell/index.js';

const env = envFromRecord({ X: '1', FOO: 'foo', EMPTY: '', SPACED: ' a  b ' });

function lexError(fn: () => unknown): ShellLexError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ShellLexError);
    return err as ShellLexError;
  }
  expect.fail('expected a ShellLexError');
}

describe('shell lexer options', () => {
  it('uses the backtick as escape token when told, leaving backslashes literal', () => {
    const lex = new ShellLexer({ escapeToken: '`' });
    expect(lex.processWord('C:\\dir\\$X `$X "`"q"', env)).to.equal('C:\\dir\\1 $X "q');
  });

  it('rawQuotes keeps the quote characters but still protects their contents', () => {
    expect(processWord(`'a $X' "b $X"`, env, { rawQuotes: true })).to.equal(`'a $X' "b 1"`);
    expect(processWords(`'a b' c`, env, { rawQuotes: true })).to.deep.equal([`'a b'`, 'c']);
  });

  it('rawEscapes keeps escape characters', () => {
    expect(processWord('a\\ b\\$X', env, { rawEscapes: true })).to.equal('a\\ b\\$X');
  });

  it('skipUnsetEnv leaves references to unset variables as written', () => {
    const word = '$A ${B} ${C:-x} ${D/a/b} ${E#p} $X ${FOO:+set}';
    expect(processWord(word, env, { skipUnsetEnv: true })).to.equal('$A ${B} ${C:-x} ${D/a/b} ${E#p} 1 set');
  });

  it('skipProcessQuotes treats quotes as ordinary characters', () => {
    expect(processWord(`"$X" '$X'`, env, { skipProcessQuotes: true })).to.equal(`"1" '1'`);
  });
});

describe('shell lexer expansion corners', () => {
  it('splits an unquoted variable value into words, keeps a quoted one whole', () => {
    expect(processWords('x$SPACED"$SPACED"', env)).to.deep.equal(['x', 'a', 'b', ' a  b ']);
  });

  it('keeps the text before a nested ${V:-w} in the same word', () => {
    expect(processWords('ab${NOPE:-c d}e', env)).to.deep.equal(['abc', 'de']);
  });

  it('replaceAll follows Go: no replacement for an empty match right after a match', () => {
    expect(processWord('${FOO//*/-}', env)).to.equal('-');
    expect(processWord('${FOO//$EMPTY/-}', env)).to.equal('-f-o-o-');
  });

  it('replaceAll treats `$name` in the replacement as a Go template; replaceFirst inserts it literally', () => {
    expect(processWord('${FOO//o/\\$x}', env)).to.equal('f\\\\');
    expect(processWord('${FOO//o/\\$}', env)).to.equal('f\\$\\$');
    expect(processWord('${FOO/o/\\$x}', env)).to.equal('f\\$xo');
  });

  it('trims prefixes and suffixes with escapes kept attached when reversing', () => {
    const e = envFromRecord({ P: 'a*b*c' });
    expect(processWord('${P%\\**}', e)).to.equal('a*b');
    expect(processWord('${P%%\\**}', e)).to.equal('a');
    expect(processWord('${P#*\\*}', e)).to.equal('b*c');
  });

  it('special and positional parameters are always unset and reported as unmatched', () => {
    const r = processWordWithMatches('[$@][$1][${10}][$$]', env);
    expect(r.result).to.equal('[][][][]');
    expect([...r.unmatched].sort()).to.deep.equal(['$', '1', '10', '@']);
  });

  it('reads Unicode letters in names', () => {
    expect(processWord('$한국어!', envFromRecord({ 한국어: 'ko' }))).to.equal('ko!');
  });

  it('drops a trailing escape and keeps a lone `$`', () => {
    expect(processWord('a$ b\\', env)).to.equal('a$ b');
  });
});

describe('shell lexer errors', () => {
  it('carries the word, a one-line reason, a stable code and the InvalidArgument category', () => {
    const err = lexError(() => processWord('x ${FOO', env));
    expect(err.word).to.equal('x ${FOO');
    expect(err.reason).to.equal("syntax error: missing '}'");
    expect(err.code).to.equal('SHELL_SYNTAX');
    expect(err.message).to.equal(`failed to process "x \${FOO": syntax error: missing '}'`);
    expect(isInvalidArgument(err)).to.equal(true);
  });

  it('reports required variables with the expanded message or the default one', () => {
    expect(lexError(() => processWord('${NOPE:?need $X}', env)).reason).to.equal('NOPE: need 1');
    expect(lexError(() => processWord('${NOPE?}', env)).reason).to.equal('NOPE: is not allowed to be unset');
    const empty = lexError(() => processWord('${EMPTY:?}', env));
    expect(empty.reason).to.equal('EMPTY: is not allowed to be empty');
    expect(empty.code).to.equal('SHELL_VARIABLE_REQUIRED');
  });

  it('rejects assignment and colon-trim modifiers by name', () => {
    expect(lexError(() => processWord('${X:=y}', env)).reason).to.equal('unsupported modifier (:=) in substitution');
    expect(lexError(() => processWord('${X:#y}', env)).reason).to.equal('unsupported modifier (:#) in substitution');
  });

  it('rejects an invalid pattern escape with SHELL_BAD_PATTERN', () => {
    const err = lexError(() => processWord('${FOO#\\x}', env));
    expect(err.code).to.equal('SHELL_BAD_PATTERN');
    expect(err.reason).to.contain("invalid escape '\\x'");
  });

  it('reports unterminated quotes and replacements', () => {
    expect(lexError(() => processWord(`'abc`, env)).reason).to.contain('single-quote');
    expect(lexError(() => processWord(`"abc`, env)).reason).to.contain('double-quote');
    expect(lexError(() => processWord('${FOO//}', env)).reason).to.equal("syntax error: missing '/' in ${}");
  });
});

describe('envFromSlice', () => {
  it('lists each name once in first-definition order, later values winning', () => {
    const e = envFromSlice(['A=1', 'B', 'A=2=3']);
    expect(e.keys()).to.deep.equal(['A', 'B']);
    expect(e.get('A')).to.equal('2=3');
    expect(e.get('B')).to.equal('');
    expect(e.get('a')).to.equal(undefined);
  });
});
