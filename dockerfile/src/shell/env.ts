/**
 * The environment a shell word is expanded against. BuildKit's `EnvGetter`:
 * a lookup that tells "unset" (undefined) apart from "set but empty" (""),
 * which `${V-w}` versus `${V:-w}` depend on. Names are case-sensitive (Linux).
 */
export interface Env {
  /** The value of `name`, or undefined when it is not set. */
  get(name: string): string | undefined;
  /** The names that are set, in definition order, each once. */
  keys(): readonly string[];
}

/**
 * An Env from `K=V` entries, BuildKit's `EnvsFromSlice`: each entry is split at
 * its first `=`; an entry without `=` defines the name with ""; a later entry
 * for the same name wins (its position in `keys()` stays where it first appeared).
 */
export function envFromSlice(entries: readonly string[]): Env {
  const map = new Map<string, string>();
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq < 0) map.set(entry, '');
    else map.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return envFromMap(map);
}

/** An Env from a plain record (own enumerable properties only). */
export function envFromRecord(record: Readonly<Record<string, string>>): Env {
  return envFromMap(new Map(Object.entries(record)));
}

function envFromMap(map: ReadonlyMap<string, string>): Env {
  const keys = [...map.keys()];
  return {
    get: (name) => map.get(name),
    keys: () => keys,
  };
}
