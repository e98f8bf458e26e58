/**
 * Human lines for a cache miss (`vertex.explain`'s `text`), from the solver's
 * structured reasons: `file "src/app.js" changed`, `build arg VERSION
 * changed: "1" → "2"`, `instruction changed: RUN make → RUN make all`,
 * `parent step "[build 2/5] COPY . ." changed`, `no previous build of this step`.
 */
import type { MissReason } from '../solver/index.js';

export function explainText(reasons: readonly MissReason[]): string[] {
  // Explain ids are `<Dockerfile>#<target>#<stage>#<line>`: another project's
  // Dockerfile of the same name in the same store can have had a different
  // kind of step at this line. Comparing a COPY with a RUN explains nothing.
  if (reasons.some((r) => r.kind === 'definition' && r.field === 'op')) return ['no previous build of this step (the last build had another kind of step here)'];
  return reasons.map(line);
}

function line(r: MissReason): string {
  switch (r.kind) {
    case 'no-previous-build':
      return 'no previous build of this step';
    case 'no-cache':
      return 'cache disabled for this step (--no-cache)';
    case 'previous-record-gone':
      return 'the previous build of this step is no longer cached (pruned)';
    case 'key-version':
      return 'the cache format changed';
    case 'content':
      return `file "${r.path}" ${r.change}`;
    case 'input':
      return `${r.index === 0 ? 'parent step' : 'input'} "${r.name}" ${r.change}`;
    case 'definition':
      return definitionLine(r.field, r.old, r.new);
  }
}

function definitionLine(field: string, old: unknown, now: unknown): string {
  if (field.startsWith('buildArgs.')) {
    const name = field.slice('buildArgs.'.length);
    if (old === undefined) return `build arg ${name} added: ${JSON.stringify(now)}`;
    if (now === undefined) return `build arg ${name} removed (was ${JSON.stringify(old)})`;
    return `build arg ${name} changed: ${JSON.stringify(old)} → ${JSON.stringify(now)}`;
  }
  if (field === 'args' && Array.isArray(old) && Array.isArray(now)) return `instruction changed: RUN ${String(old.at(-1))} → RUN ${String(now.at(-1))}`;
  if (field === 'env' && Array.isArray(old) && Array.isArray(now)) {
    const gone = old.filter((e) => !now.includes(e));
    const added = now.filter((e) => !old.includes(e));
    return `environment changed: ${[...gone.map((e) => `-${String(e)}`), ...added.map((e) => `+${String(e)}`)].join(' ')}`;
  }
  if (field === 'actions') return 'instruction changed (sources, destination or flags)';
  return `${field} changed: ${short(old)} → ${short(now)}`;
}

function short(v: unknown): string {
  const s = v === undefined ? 'unset' : JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
