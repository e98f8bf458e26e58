/**
 * Why a key missed: a structured diff of the key components of the previous
 * build of the same step (found through its explain id) against this one.
 * Definition fields are compared by dotted path (`env.PATH`, `args.VERSION`),
 * content by path, inputs by position and named by the input vertex.
 *
 * The previous content map is only read when its digest differs from the
 * current one's (a storage may keep it apart and load it on demand: see
 * FileCacheStorage), and the diff walks each map once (20,000 paths: a few
 * ms) and sorts only the paths that changed.
 */
import { canonicalJson } from '@tsbuild/core';
import { contentDigestOf, storedContentDigest, type KeyComponents } from './cache-key.js';
import type { MissReason } from './types.js';

export function explainMiss(prev: KeyComponents, cur: KeyComponents): MissReason[] {
  const reasons: MissReason[] = [];
  if (prev.v !== cur.v) reasons.push({ kind: 'key-version', old: prev.v, new: cur.v });
  reasons.push(...diffDefinition(prev.definition ?? {}, cur.definition));
  const prevDigest = storedContentDigest(prev);
  if (prevDigest === undefined || prevDigest !== contentDigestOf(cur.content)) reasons.push(...diffContent(prev.content ?? {}, cur.content));
  reasons.push(...diffInputs(prev.inputs ?? [], cur.inputs));
  return reasons;
}

function diffDefinition(prev: Record<string, unknown>, cur: Record<string, unknown>): MissReason[] {
  const a = flatten(prev);
  const b = flatten(cur);
  const out: MissReason[] = [];
  for (const field of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const old = a.get(field);
    const now = b.get(field);
    if (canonicalJson(old) !== canonicalJson(now)) out.push({ kind: 'definition', field, old, new: now });
  }
  return out;
}

/** Plain objects become dotted paths; arrays and scalars are leaves. */
function flatten(value: Record<string, unknown>, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  for (const [k, v] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (isRecord(v)) flatten(v, path, out);
    else if (v !== undefined) out.set(path, v);
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function diffContent(prev: Record<string, string>, cur: Record<string, string>): MissReason[] {
  const out: (MissReason & { path: string })[] = [];
  for (const path of Object.keys(cur)) {
    const now = cur[path]!;
    const old = Object.hasOwn(prev, path) ? prev[path] : undefined;
    if (old === undefined) out.push({ kind: 'content', path, change: 'added', new: now });
    else if (old !== now) out.push({ kind: 'content', path, change: 'changed', old, new: now });
  }
  for (const path of Object.keys(prev)) {
    if (!Object.hasOwn(cur, path)) out.push({ kind: 'content', path, change: 'removed', old: prev[path]! });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function diffInputs(prev: KeyComponents['inputs'], cur: KeyComponents['inputs']): MissReason[] {
  const out: MissReason[] = [];
  for (let index = 0; index < Math.max(prev.length, cur.length); index++) {
    const old = prev[index];
    const now = cur[index];
    if (old && now && old.key === now.key) continue;
    const named = now ?? old!;
    const reason: MissReason = {
      kind: 'input',
      index,
      name: named.name,
      change: !old ? 'added' : !now ? 'removed' : 'changed',
      ...(named.explainId === undefined ? {} : { explainId: named.explainId }),
      ...(old ? { oldKey: old.key } : {}),
      ...(now ? { newKey: now.key } : {}),
    };
    out.push(reason);
  }
  return out;
}
