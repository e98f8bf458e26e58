/**
 * `Node.Dump()` from BuildKit, byte for byte: the golden-file format of the
 * parser conformance cases (`(copy ["--from=b"] "a" "c")`).
 */
import { goQuote, trimSpace } from './go-text.js';
import type { Node } from './node.js';

/** One node as an s-expression body (without the outer parentheses). */
export function dumpNode(node: Node): string {
  let s = node.value.toLowerCase();
  if (node.flags.length > 0) s += ' [' + node.flags.map(goQuote).join(' ') + ']';
  for (const child of node.children) s += '(' + dumpNode(child) + ')\n';
  for (let n = node.next; n; n = n.next) {
    s += ' ' + (n.children.length > 0 ? dumpNode(n) : goQuote(n.value));
  }
  return trimSpace(s);
}

/** The whole tree as BuildKit's test files hold it: the root's dump plus a final newline. */
export function dumpAst(ast: Node): string {
  return dumpNode(ast) + '\n';
}
