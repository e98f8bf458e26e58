/**
 * `--chmod` values: octal (`755`, `0644`) or symbolic like chmod(1) and
 * BuildKit's newer parser (`u+x`, `go-w`, `a=rX`, comma-separated clauses).
 * The result maps an entry's current mode to its new one: symbolic modes are
 * relative to the source mode, and `X` only sets x on directories or on files
 * that already have an x bit.
 */
import { InvalidArgumentError } from '@tsbuild/core';

export type ModeMapper = (mode: number, isDir: boolean) => number;

export function parseChmod(spec: number | string): ModeMapper {
  if (typeof spec === 'number') {
    if (!Number.isInteger(spec) || spec < 0 || spec > 0o7777) throw bad(String(spec));
    return () => spec;
  }
  if (/^[0-7]{1,4}$/.test(spec)) {
    const mode = parseInt(spec, 8);
    return () => mode;
  }
  const clauses = spec.split(',').map(parseClause(spec));
  return (mode, isDir) => clauses.reduce((m, c) => c(m, isDir), mode & 0o7777);
}

/**
 * The mode an octal --chmod names (undefined for a symbolic one): what fsutil
 * gives the directories a copy creates (copy.go Copy / prepareTargetDir:
 * MkdirAll with `*ci.Mode`, set only from an octal --chmod, else 0755).
 */
export function octalChmod(spec: number | string | undefined): number | undefined {
  if (typeof spec === 'number') return spec;
  return spec !== undefined && /^[0-7]{1,4}$/.test(spec) ? parseInt(spec, 8) : undefined;
}

const CLAUSE = /^([ugoa]*)([-+=])([rwxXst]*)$/;

function parseClause(spec: string) {
  return (clause: string): ModeMapper => {
    const m = CLAUSE.exec(clause);
    if (!m) throw bad(spec);
    const who = m[1] || 'a';
    const op = m[2]!;
    const perms = m[3]!;
    let mask = 0;
    if (/[ua]/.test(who)) mask |= 0o4700;
    if (/[ga]/.test(who)) mask |= 0o2070;
    if (/[oa]/.test(who)) mask |= 0o1007;
    return (mode, isDir) => {
      let bits = 0;
      if (perms.includes('r')) bits |= 0o444;
      if (perms.includes('w')) bits |= 0o222;
      if (perms.includes('x') || (perms.includes('X') && (isDir || (mode & 0o111) !== 0))) bits |= 0o111;
      if (perms.includes('s')) bits |= 0o6000;
      if (perms.includes('t')) bits |= 0o1000;
      bits &= mask;
      if (op === '+') return mode | bits;
      if (op === '-') return mode & ~bits;
      return (mode & ~mask) | bits;
    };
  };
}

function bad(spec: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid chmod parameter ${JSON.stringify(spec)}`, { code: 'FILEOPS_BAD_CHMOD' });
}
