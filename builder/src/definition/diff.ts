/**
 * What differs between two definitions (of two builds of one Dockerfile):
 * the debugging view of "why did this step rebuild" before anything runs.
 * Vertices are matched by explain id (else name; the n-th of equal ids with
 * the n-th); a matched pair differs when its digest does, and then says
 * which op fields changed (dotted paths, arrays compared whole) and whether
 * its inputs did — a vertex whose own op is the same but that sits on a
 * changed one lists no fields, only `inputs`.
 */
import { canonicalJson } from '@tsbuild/core';
import type { Definition, DefinitionVertex } from './types.js';

export type VertexChange =
  | { change: 'added' | 'removed'; id: string; name: string }
  | { change: 'changed'; id: string; name: string; fields: string[]; inputs: boolean };

export function diffDefinitions(a: Definition, b: Definition): VertexChange[] {
  const before = byId(a);
  const out: VertexChange[] = [];
  for (const [id, v] of byId(b)) {
    const old = before.get(id);
    before.delete(id);
    if (!old) out.push({ change: 'added', id, name: v.name });
    else if (old.digest !== v.digest) {
      const inputs = canonicalJson(inputDigests(a, old)) !== canonicalJson(inputDigests(b, v));
      out.push({ change: 'changed', id, name: v.name, fields: changedFields(old.op, v.op), inputs });
    }
  }
  for (const [id, v] of before) out.push({ change: 'removed', id, name: v.name });
  return out;
}

function byId(d: Definition): Map<string, DefinitionVertex> {
  const out = new Map<string, DefinitionVertex>();
  const seen = new Map<string, number>();
  for (const v of d.vertices) {
    const base = v.explainId ?? v.name;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.set(n === 0 ? base : `${base}#${n}`, v);
  }
  return out;
}

function inputDigests(d: Definition, v: DefinitionVertex): string[] {
  return v.inputs.map((i) => d.vertices[i]!.digest);
}

function changedFields(a: object, b: object): string[] {
  const x = flatten(a);
  const y = flatten(b);
  return [...new Set([...x.keys(), ...y.keys()])].filter((k) => canonicalJson(x.get(k)) !== canonicalJson(y.get(k))).sort();
}

/** Plain objects become dotted paths; arrays and scalars are leaves. */
function flatten(value: object, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  for (const [k, v] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, path, out);
    else if (v !== undefined) out.set(path, v);
  }
  return out;
}
