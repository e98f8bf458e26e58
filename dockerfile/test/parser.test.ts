/**
 * Parser behaviour beyond the conformance corpus: Go quoting, directives,
 * BOM, error codes and locations, warnings as data.
 */
import { expect } from 'chai';
import { DockerfileError } from '@tsbuild/core';
import { DockerfileSyntaxError, dumpAst, goQuote, parseDockerfile, ParseErrorCode } from '../src/parser/index.js';

function parseError(text: string): DockerfileError {
  try {
    parseDockerfile(text, { file: 'df' });
  } catch (err) {
    expect(err).to.be.instanceOf(DockerfileError);
    return err as DockerfileError;
  }
  return expect.fail('expected a parse error');
}

describe('parser: goQuote (strconv.Quote)', function () {
  it('escapes quotes, backslashes and the short control escapes', function () {
    expect(goQuote('a"b\\c')).to.equal('"a\\"b\\\\c"');
    expect(goQuote('\x07\b\f\n\r\t\v')).to.equal('"\\a\\b\\f\\n\\r\\t\\v"');
  });
  it('writes other control characters and DEL as \\xHH', function () {
    expect(goQuote('\x00\x1b\x7f')).to.equal('"\\x00\\x1b\\x7f"');
  });
  it('keeps printable Unicode and escapes non-printable runes as \\u / \\U', function () {
    expect(goQuote('♥ é')).to.equal('"♥ é"');
    expect(goQuote('\u00a0\u200b')).to.equal('"\\u00a0\\u200b"');
    expect(goQuote('\u{e0001}')).to.equal('"\\U000e0001"');
  });
});

describe('parser: structure', function () {
  it('gives each instruction its lines, flags, original text and JSON attribute', function () {
    const { ast } = parseDockerfile('FROM a\n\nCOPY --from=b \\\n  x y\nCMD ["a", "b"]\n');
    expect(ast.children.map((n) => [n.value, n.startLine, n.endLine])).to.deep.equal([
      ['FROM', 1, 1], ['COPY', 3, 4], ['CMD', 5, 5],
    ]);
    expect(ast.children[1]!.flags).to.deep.equal(['--from=b']);
    expect(ast.children[1]!.original).to.equal('COPY --from=b   x y');
    expect(ast.children[2]!.attributes.json).to.equal(true);
    expect(dumpAst(ast)).to.equal('(from "a")\n(copy ["--from=b"] "x" "y")\n(cmd "a" "b")\n');
  });

  it('falls back to shell form when the JSON does not parse', function () {
    const { ast } = parseDockerfile("FROM a\nCMD ['a']\n");
    expect(ast.children[1]!.attributes.json).to.equal(undefined);
    expect(dumpAst(ast)).to.contain('(cmd "[\'a\']")');
  });

  it('drops a UTF-8 BOM on the first line and reads directives after it', function () {
    const res = parseDockerfile('\ufeff# escape=`\nFROM a\nRUN echo `\n  hi\n');
    expect(res.escapeToken).to.equal('`');
    expect(res.directives.escape).to.equal('`');
    expect(dumpAst(res.ast)).to.equal('(from "a")\n(run "echo   hi")\n');
  });

  it('reports syntax and check directives with their lines', function () {
    const res = parseDockerfile('# syntax=docker/dockerfile:1\n# check=skip=all\nFROM a\n');
    expect(res.directives).to.deep.include({ syntax: 'docker/dockerfile:1', check: 'skip=all', escape: '\\' });
    expect(res.directives.lines).to.deep.equal({ syntax: 1, check: 2 });
  });

  it('ignores directives after the first non-directive line', function () {
    const res = parseDockerfile('# hello\n# escape=`\nFROM a\n');
    expect(res.escapeToken).to.equal('\\');
  });

  it('keeps heredoc bodies byte-exact, CRLF included, and counts their lines', function () {
    const { ast } = parseDockerfile('FROM a\r\nRUN <<EOF\r\necho hi\r\nEOF\r\nRUN x\r\n');
    expect(ast.children[1]!.heredocs).to.deep.equal([
      { name: 'EOF', fileDescriptor: 0, expand: true, chomp: false, content: 'echo hi\r\n' },
    ]);
    expect([ast.children[1]!.endLine, ast.children[2]!.startLine]).to.deep.equal([4, 5]);
  });

  it('recognises heredocs in an ONBUILD trigger', function () {
    const { ast } = parseDockerfile('FROM a\nONBUILD RUN <<EOF\nx\nEOF\n');
    expect(ast.children[1]!.heredocs.map((h) => h.content)).to.deep.equal(['x\n']);
  });

  it('warns about empty continuation lines with a rule, range and url', function () {
    const { warnings } = parseDockerfile('FROM a\nRUN a \\\n\n  b\n');
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.deep.include({
      rule: 'NoEmptyContinuation',
      message: 'Empty continuation line found in: RUN a   b',
      url: 'https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/',
    });
    expect(warnings[0]!.range.start.line).to.equal(2);
    expect(warnings[0]!.range.end.line).to.equal(4);
  });
});

describe('parser: errors', function () {
  it('rejects a file without instructions', function () {
    const err = parseError('# only a comment\n\n');
    expect(err.code).to.equal(ParseErrorCode.Empty);
    expect(err.message).to.equal('file with no instructions');
  });

  it('rejects an invalid escape directive at its line', function () {
    const err = parseError('# escape=x\nFROM a\n');
    expect(err.code).to.equal(ParseErrorCode.InvalidDirective);
    expect(err.location).to.equal('df:1:1');
  });

  it('rejects a repeated directive', function () {
    const err = parseError('# syntax=a\n# syntax=b\nFROM a\n');
    expect(err.code).to.equal(ParseErrorCode.RepeatedDirective);
    expect(err.message).to.equal('only one syntax parser directive can be used');
    expect(err.range?.start.line).to.equal(2);
  });

  it('rejects ENV without a value, spanning the instruction lines', function () {
    const err = parseError('FROM a\nENV \\\n  PATH\n');
    expect(err.code).to.equal(ParseErrorCode.MissingArguments);
    expect(err.message).to.equal('ENV must have two arguments');
    expect([err.range?.start.line, err.range?.end.line]).to.deep.equal([2, 3]);
    expect(err).to.be.instanceOf(DockerfileSyntaxError);
    expect((err as DockerfileSyntaxError).lineText).to.equal('ENV \\\n  PATH');
  });

  it('rejects a JSON array with non-strings', function () {
    expect(parseError('FROM a\nCMD ["a", 1]\n').code).to.equal(ParseErrorCode.JsonNotStrings);
  });

  it('rejects an unterminated heredoc', function () {
    const err = parseError('FROM a\nRUN <<EOF\necho\n');
    expect(err.code).to.equal(ParseErrorCode.UnterminatedHeredoc);
    expect(err.range?.start.line).to.equal(2);
  });

  // BuildKit locates both on whole lines (parser.go Parse: withLocation(err, startLine, currentLine));
  // tsbuild keeps those lines and starts the range where the caret helps: the instruction, the heredoc.
  it('locates an unterminated heredoc at its <<NAME: the lines BuildKit names, the column of the marker', function () {
    const err = parseError('FROM a\nRUN cat <<-"A" 3<<B\nA\nbody\n');
    expect(err.code).to.equal(ParseErrorCode.UnterminatedHeredoc);
    expect(err.range).to.deep.equal({ start: { line: 2, character: 15 }, end: { line: 4, character: 4 } });
    expect(err.location).to.equal('df:2:16');
  });

  it('locates an indented instruction at its keyword, not at column 1', function () {
    const err = parseError('FROM a\n   ENV A\n');
    expect(err.code).to.equal(ParseErrorCode.MissingArguments);
    expect(err.range).to.deep.equal({ start: { line: 2, character: 3 }, end: { line: 2, character: 8 } });
    expect(err.location).to.equal('df:2:4');
  });

  it('rejects a line over 65535 bytes, counting UTF-8 bytes', function () {
    // 21846 three-byte characters = 65538 bytes, well under 65535 UTF-16 units
    const err = parseError(`FROM a\nLABEL x=${'€'.repeat(21846)}\n`);
    expect(err.code).to.equal(ParseErrorCode.LineTooLong);
    expect(err.range?.start.line).to.equal(2);
    expect(() => parseDockerfile(`FROM a\nLABEL x=${'a'.repeat(65535 - 8)}\n`)).not.to.throw();
  });
});
