/**
 * A vertex's digest: the digest of its op description and its inputs'
 * digests (canonical JSON, so key order and absent-vs-undefined do not
 * matter), with the volatile fields removed — the proxy variables of an exec
 * (ops.ts). It identifies the vertex in events and enters its cache key, so
 * it is exactly what it was before descriptions existed.
 */
import type { Digest } from '@tsbuild/core';
import { vertexDigest } from '../solver/index.js';
import type { OpDescription } from './ops.js';

export function descriptionDigest(op: OpDescription, inputs: readonly Digest[]): Digest {
  return vertexDigest({ def: keyedPart(op), inputs });
}

function keyedPart(op: OpDescription): object {
  if (op.op !== 'exec') return op;
  const { proxyEnv: _, ...rest } = op;
  return rest;
}
