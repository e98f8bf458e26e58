/**
 * A definition from outside (JSON from a file, a client, a cache): checked
 * before the worker resolves it. The shape of the graph is checked — every
 * vertex names a known op, inputs point at earlier vertices, the target at a
 * vertex — and each digest is recomputed from the vertex's op description
 * and its inputs' digests, so a definition cannot claim another vertex's
 * identity (and with it its cache records). The fields inside an op
 * description are not checked one by one: they are covered by the digest,
 * and an op given nonsense fails when it runs, as a build step would.
 */
import { InvalidArgumentError, isDigest } from '@tsbuild/core';
import { descriptionDigest } from './digest.js';
import type { OpDescription } from './ops.js';
import type { Definition, DefinitionVertex } from './types.js';

const OPS = new Set(['source', 'local', 'exec', 'file', 'merge']);
const SOURCES = new Set([undefined, 'http', 'git']);

/** `value` as a Definition; throws InvalidArgumentError (DEFINITION_INVALID, DEFINITION_DIGEST_MISMATCH) naming the bad field. */
export function checkDefinition(value: unknown): Definition {
  if (!isRecord(value)) throw invalid('definition', 'is not an object');
  if (typeof value.file !== 'string') throw invalid('file', 'is not a string');
  if (!Array.isArray(value.vertices)) throw invalid('vertices', 'is not an array');
  const vertices = value.vertices.map((v, i) => checkVertex(v, i, value.vertices as DefinitionVertex[]));
  const { target } = value;
  if (target !== undefined && !isIndex(target, vertices.length)) throw invalid('target', `is not the index of a vertex (${vertices.length} vertices)`);
  return { file: value.file, vertices, ...(target === undefined ? {} : { target: target as number }) };
}

function checkVertex(v: unknown, i: number, vertices: readonly DefinitionVertex[]): DefinitionVertex {
  const at = `vertices[${i}]`;
  if (!isRecord(v)) throw invalid(at, 'is not an object');
  if (typeof v.digest !== 'string' || !isDigest(v.digest)) throw invalid(`${at}.digest`, 'is not a digest');
  if (typeof v.name !== 'string') throw invalid(`${at}.name`, 'is not a string');
  if (!Array.isArray(v.inputs)) throw invalid(`${at}.inputs`, 'is not an array');
  v.inputs.forEach((input, j) => {
    if (!isIndex(input, i)) throw invalid(`${at}.inputs[${j}]`, 'is not the index of an earlier vertex');
  });
  if (!isRecord(v.op) || !OPS.has(v.op.op as string) || (v.op.op === 'source' && !SOURCES.has(v.op.source as string | undefined))) {
    throw invalid(`${at}.op`, 'is no known op description');
  }
  if (v.explainId !== undefined && typeof v.explainId !== 'string') throw invalid(`${at}.explainId`, 'is not a string');
  if (v.ignoreCache !== undefined && v.ignoreCache !== true) throw invalid(`${at}.ignoreCache`, 'is not true');
  if (typeof v.stage !== 'string' || !Number.isInteger(v.stageIndex)) throw invalid(`${at}.stage`, 'is not a stage name and index');
  if (!isRecord(v.range) || !isRecord(v.range.start) || !isRecord(v.range.end)) throw invalid(`${at}.range`, 'is not a source range');
  const op = v.op as OpDescription;
  const inputs = v.inputs as number[];
  const digest = descriptionDigest(op, inputs.map((j) => vertices[j]!.digest));
  if (digest !== v.digest) {
    throw new InvalidArgumentError(`definition: ${at} ("${v.name}") has digest ${v.digest}, but its op and inputs digest to ${digest}`, { code: 'DEFINITION_DIGEST_MISMATCH' });
  }
  return v as unknown as DefinitionVertex;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isIndex(v: unknown, below: number): boolean {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) < below;
}

function invalid(field: string, problem: string): InvalidArgumentError {
  return new InvalidArgumentError(`definition: ${field} ${problem}`, { code: 'DEFINITION_INVALID' });
}
