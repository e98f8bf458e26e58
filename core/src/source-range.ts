/** A position in a text file: 0-based line and character, like the LSP and dockerfile-ast. */
export interface Position {
  line: number;
  character: number;
}

/**
 * A range in a Dockerfile. `line` is 1-based here (what people read in an error),
 * `character` is 0-based (add 1 when printing a column).
 */
export interface SourceRange {
  start: Position;
  end: Position;
}

export function rangeOf(startLine: number, startChar: number, endLine: number, endChar: number): SourceRange {
  return { start: { line: startLine, character: startChar }, end: { line: endLine, character: endChar } };
}
