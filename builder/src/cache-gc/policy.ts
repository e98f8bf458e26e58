/**
 * GC policies, as buildkitd's `gcpolicy` and `buildctl prune`: which cache
 * records a prune may remove (filters, `all`, `keepDuration`) and how much it
 * keeps (`maxUsedSpace`, `reservedSpace`, `minFreeSpace`).
 */
import { InvalidArgumentError } from '@tsbuild/core';
import { ramInBytes } from '@tsbuild/dockerfile';

/** BuildKit's client.UsageRecordType values that tsbuild produces. */
export type UsageRecordType = 'regular' | 'source.local' | 'source.git.checkout' | 'exec.cachemount';

/** One policy: BuildKit's client.PruneInfo. Sizes in bytes, durations in milliseconds; 0 or absent = no limit. */
export interface GcPolicy {
  /** Also records an image tag still holds (BuildKit's `--all`: shared and internal records too). */
  all?: boolean;
  /** containerd-style filters; a record matches when any one string matches (each string: comma-separated, all must hold). */
  filters?: string[];
  /** Keep what was used within this long. */
  keepDuration?: number;
  maxUsedSpace?: number;
  reservedSpace?: number;
  minFreeSpace?: number;
}

/** What a filter sees of a record (BuildKit's adaptUsageInfo, cache/manager.go). */
export interface FilterableRecord {
  id: string;
  type: UsageRecordType;
  description: string;
  shared: boolean;
  inUse: boolean;
}

/**
 * How many bytes a policy keeps, given the cache's unshared total and the
 * free bytes of its filesystem: BuildKit's calculateKeepBytes
 * (cache/manager.go). 0 means no cap (keep everything the other rules keep).
 */
export function keepBytesOf(policy: GcPolicy, totalSize: number, freeBytes: number): number {
  const max = policy.maxUsedSpace ?? 0;
  const reserved = policy.reservedSpace ?? 0;
  const minFree = policy.minFreeSpace ?? 0;
  if (max === 0 && reserved === 0 && minFree === 0) return 0;
  let keep = max;
  const excess = minFree - freeBytes;
  if (minFree !== 0 && excess > 0) keep = keep === 0 ? totalSize - excess : Math.min(keep, totalSize - excess);
  else if (minFree !== 0 && keep === 0) keep = totalSize; // only minFreeSpace, and it is met: delete nothing
  return Math.max(keep, reserved);
}

/**
 * The automatic GC's policies for a cache capped at `keepBytes`: buildkitd's
 * DefaultGCPolicy (cmd/buildkitd/config/gcpolicy.go) with the legacy
 * keepStorage taken as reservedSpace, as it does: first easily reproduced
 * records (context copies, cache mounts, git checkouts) unused for 48 h
 * beyond 512 MB, then anything unused for 60 days, then the unshared cache
 * down to the cap, and last the shared records too.
 */
export function defaultGcPolicies(keepBytes: number): GcPolicy[] {
  const cap = { reservedSpace: keepBytes };
  return [
    { filters: ['type==source.local', 'type==exec.cachemount', 'type==source.git.checkout'], keepDuration: 48 * HOUR_MS, maxUsedSpace: 512e6 },
    { keepDuration: 60 * 24 * HOUR_MS, ...cap },
    { ...cap },
    { all: true, ...cap },
  ];
}

/**
 * Filters as the CLI takes them: `until=24h` and `unused-for=24h` become the
 * policy's keepDuration (buildx's prune reads `until` that way); the rest stay
 * filters, checked here so that a typo fails before anything is removed.
 */
export function policyFromFlags(flags: { all?: boolean; filters?: readonly string[]; keepStorage?: number; keepDuration?: number }): GcPolicy {
  const policy: GcPolicy = { all: flags.all === true, filters: [] };
  if (flags.keepStorage) policy.maxUsedSpace = flags.keepStorage;
  if (flags.keepDuration) policy.keepDuration = flags.keepDuration;
  for (const f of flags.filters ?? []) {
    const m = /^(until|unused-for)=(.+)$/.exec(f);
    if (m) policy.keepDuration = parseDuration(m[2]!);
    else {
      parseFilter(f);
      policy.filters!.push(f);
    }
  }
  return policy;
}

const FIELDS = new Set(['id', 'type', 'description', 'shared', 'private', 'inuse']);

type Clause = { field: string; op?: '==' | '!=' | '~='; value?: string };

/** One filter string: clauses `field`, `field==v`, `field=v`, `field!=v`, `field~=regexp`, comma-separated. */
function parseFilter(filter: string): Clause[] {
  return filter.split(',').map((clause) => {
    const m = /^([a-z]+)(?:(==|!=|~=|=)(.*))?$/.exec(clause.trim());
    if (!m || !FIELDS.has(m[1]!)) throw new InvalidArgumentError(`invalid filter ${JSON.stringify(clause)}: fields are ${[...FIELDS].join(', ')}, until and unused-for`, { code: 'GC_INVALID_FILTER' });
    if (m[2] === undefined) return { field: m[1]! };
    if (m[2] === '~=') new RegExp(m[3]!); // a bad pattern fails now
    return { field: m[1]!, op: m[2] === '=' ? '==' : (m[2] as Clause['op']), value: m[3]! };
  });
}

/** Whether a record matches the policy's filters (no filters: everything). */
export function matchesFilters(record: FilterableRecord, filters: readonly string[] | undefined): boolean {
  if (!filters || filters.length === 0) return true;
  return filters.some((f) => parseFilter(f).every((c) => matchesClause(record, c)));
}

function matchesClause(r: FilterableRecord, c: Clause): boolean {
  const field = ({ id: r.id, type: r.type, description: r.description, shared: r.shared ? '' : undefined, private: r.shared ? undefined : '', inuse: r.inUse ? '' : undefined } as Record<string, string | undefined>)[c.field];
  if (c.op === undefined) return field !== undefined;
  if (c.op === '~=') return field !== undefined && new RegExp(c.value!).test(field);
  // An id matches by prefix, as docker's ids do.
  const equal = field !== undefined && (c.field === 'id' ? field.startsWith(c.value!) && c.value !== '' : field === c.value);
  return c.op === '==' ? equal : !equal;
}

const HOUR_MS = 3600_000;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: HOUR_MS, d: 24 * HOUR_MS };

/** A Go-style duration (`24h`, `1h30m`, `90s`; also `7d`), in milliseconds. */
export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new InvalidArgumentError(`invalid duration ${JSON.stringify(text)} (e.g. 24h, 90m, 1h30m)`, { code: 'GC_INVALID_DURATION' });
  return parts.reduce((ms, p) => ms + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
}

/** A size as docker's units.RAMInBytes reads it (`512MB`, `1g`, `10GiB`, `1048576`): binary multiples. */
export function parseSize(text: string): number {
  const bytes = ramInBytes(text.trim());
  if (bytes === undefined) throw new InvalidArgumentError(`invalid size ${JSON.stringify(text)} (e.g. 512MB, 10GB)`, { code: 'GC_INVALID_SIZE' });
  return bytes;
}
