/**
 * EXPOSE: each spec expanded and split into words, then parsed like
 * docker's `nat.ParsePortSpecs` (`80`, `53/udp`, `8000-8002`, `ip:host:container`).
 * History `EXPOSE map[80/tcp:{}]` — Go's `%v` of the port set.
 */
import type { ExposeInstruction } from '../instructions/index.js';
import { withConfig } from './build-state.js';
import { StageErrorCode, type Dispatcher } from './dispatch-context.js';
import { goSetMap } from './go-format.js';

export const dispatchExpose: Dispatcher<ExposeInstruction> = (inst, state, ctx) => {
  const words = inst.ports.flatMap((p) => ctx.expandWords(p, state, inst.range));
  const ports: string[] = [];
  for (const w of words) {
    const proto = w.includes('/') ? w.slice(w.lastIndexOf('/') + 1) : '';
    if (proto !== proto.toLowerCase()) {
      ctx.warn('ExposeProtoCasing', `Defined protocol '${w}' in EXPOSE instruction should be lowercase`, inst.range);
    }
    if (w.includes(':')) {
      ctx.warn('ExposeInvalidFormat', `EXPOSE instruction should not define an IP address or host-port mapping, found '${w}'`, inst.range);
    }
    const parsed = parsePortSpec(w) ?? ctx.fail(StageErrorCode.InvalidValue, `invalid port spec ${JSON.stringify(w)}`, inst.range);
    ports.push(...parsed);
  }
  const ExposedPorts = { ...(state.config.ExposedPorts ?? {}) };
  for (const p of ports) ExposedPorts[p] = {};
  return {
    state: withConfig(state, { ExposedPorts }),
    expanded: { kind: 'EXPOSE', ports },
    createdBy: `EXPOSE ${goSetMap(ports)}`,
    makesLayer: false,
  };
};

/** `[ip:[hostPort]:]containerPort[-end][/proto]` → `N/proto` for each container port; undefined when invalid. */
export function parsePortSpec(spec: string): string[] | undefined {
  const slash = spec.lastIndexOf('/');
  const proto = slash >= 0 ? spec.slice(slash + 1).toLowerCase() : 'tcp';
  const rest = slash >= 0 ? spec.slice(0, slash) : spec;
  if (!['tcp', 'udp', 'sctp'].includes(proto)) return undefined;
  const container = rest.slice(rest.lastIndexOf(':') + 1);
  const m = /^(\d+)(?:-(\d+))?$/.exec(container);
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start > 65535 || end > 65535 || end < start) return undefined;
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}
