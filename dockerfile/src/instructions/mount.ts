/**
 * `RUN --mount=` specs, parsed like BuildKit's `runmount.go`: CSV fields,
 * `key=value` (keys case-insensitive), bare `ro|readonly|rw|readwrite` and
 * `required`; defaults and cross-field checks applied at the end. Exported so
 * the stage graph can parse a spec after expanding `$VAR`s in it.
 */
import type { CacheSharing, MountSpec, MountType } from './types.js';

const mountTypes = new Set<MountType>(['bind', 'cache', 'tmpfs', 'secret', 'ssh']);
const sharings = new Set<CacheSharing>(['shared', 'private', 'locked']);

/** Go `strconv.ParseBool`. */
function parseBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/** Go encoding/csv field splitting of one record (what BuildKit's csvvalue does). */
export function csvFields(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw new Error(`extraneous or missing " in quoted-field`);
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += s[i++];
      }
      if (i < s.length && s[i] !== ',') throw new Error(`extraneous or missing " in quoted-field`);
    } else {
      while (i < s.length && s[i] !== ',') field += s[i++];
    }
    out.push(field);
    if (i >= s.length) break;
    i++; // the comma
  }
  return out;
}

/** Docker `units.RAMInBytes`: `64m`, `1g`, `512KiB`, `1024`. */
export function ramInBytes(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp])?(?:i?b)?$/i.exec(v);
  if (!m) return undefined;
  const pow = m[2] ? 'kmgtp'.indexOf(m[2].toLowerCase()) + 1 : 0;
  return Math.floor(Number(m[1]) * 1024 ** pow);
}

function uint(v: string, radix: 8 | 10, what: string): number {
  const ok = radix === 8 ? /^[0-7]+$/.test(v) : /^\d+$/.test(v);
  const n = ok ? Number.parseInt(v, radix) : NaN;
  if (!ok || n > 0xffffffff) throw new Error(`invalid value ${v} for ${what}`);
  return n;
}

/** Parses one mount spec; throws an Error with BuildKit's message when it is invalid. */
export function parseMountSpec(value: string): MountSpec {
  const m: MountSpec = { type: 'bind', readOnly: true, required: false };
  let roAuto = true;
  let sharing: string | undefined;
  for (const field of csvFields(value)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? '' : field.slice(eq + 1);
    const secretLike = m.type === 'secret' || m.type === 'ssh';
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') m.readOnly = true;
      else if (key === 'readwrite' || key === 'rw') m.readOnly = false;
      else if (key === 'required' && secretLike) m.required = true;
      else if (key === 'required') throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
      else throw new Error(`invalid field '${field}' must be a key=value pair`);
      if (key !== 'required') roAuto = false;
      continue;
    }
    switch (key) {
      case 'type': {
        const t = val.toLowerCase() as MountType;
        if (!mountTypes.has(t)) throw new Error(`unsupported mount type ${JSON.stringify(val)}`);
        m.type = t;
        break;
      }
      case 'from': m.from = val; break;
      case 'source': case 'src': m.source = val; break;
      case 'target': case 'dst': case 'destination': m.target = val; break;
      case 'readonly': case 'ro': case 'readwrite': case 'rw': {
        const b = parseBool(val);
        if (b === undefined) throw new Error(`invalid value for ${key}: ${val}`);
        m.readOnly = key === 'readonly' || key === 'ro' ? b : !b;
        roAuto = false;
        break;
      }
      case 'required': {
        if (!secretLike) throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        const b = parseBool(val);
        if (b === undefined) throw new Error(`invalid value for ${key}: ${val}`);
        m.required = b;
        break;
      }
      case 'id': m.id = val; break;
      case 'sharing':
        if (val !== '' && !sharings.has(val.toLowerCase() as CacheSharing)) {
          throw new Error(`unsupported sharing value ${JSON.stringify(val)}`);
        }
        sharing = val.toLowerCase();
        break;
      case 'mode': m.mode = uint(val, 8, 'mode'); break;
      case 'uid': m.uid = uint(val, 10, 'uid'); break;
      case 'gid': m.gid = uint(val, 10, 'gid'); break;
      case 'size': {
        if (m.type !== 'tmpfs') throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        const n = ramInBytes(val);
        if (n === undefined) throw new Error(`invalid value for size: ${val}`);
        m.sizeBytes = n;
        break;
      }
      case 'env':
        if (m.type !== 'secret') throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        m.env = val;
        break;
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  return finish(m, roAuto, sharing);
}

function finish(m: MountSpec, roAuto: boolean, sharing: string | undefined): MountSpec {
  const fileInfoAllowed = m.type === 'secret' || m.type === 'ssh' || m.type === 'cache';
  if (!fileInfoAllowed) {
    if (m.mode !== undefined) throw new Error(`mode not allowed for ${JSON.stringify(m.type)} type mounts`);
    if (m.uid !== undefined) throw new Error(`uid not allowed for ${JSON.stringify(m.type)} type mounts`);
    if (m.gid !== undefined) throw new Error(`gid not allowed for ${JSON.stringify(m.type)} type mounts`);
  }
  if (roAuto) m.readOnly = !(m.type === 'cache' || m.type === 'tmpfs');
  if (sharing !== undefined && sharing !== '' && m.type !== 'cache') {
    throw new Error(`invalid cache sharing set for ${m.type} mount`);
  }
  if (m.type === 'cache') m.sharing = (sharing || 'shared') as CacheSharing;
  if ((m.type === 'secret' || m.type === 'ssh') && m.from !== undefined) {
    throw new Error(`${m.type} mounts not supported with from`);
  }
  return m;
}
