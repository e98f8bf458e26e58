/**
 * Go's `time.ParseDuration`, to the nanosecond: HEALTHCHECK's options are
 * defined by it (`1h30m`, `1.5s`, `300ms`, `2us`, `-1s`), and an image's
 * config stores them in nanoseconds.
 */
const units: Record<string, number> = {
  ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9,
};

/** Nanoseconds, or throws an Error with Go's message (`time: invalid duration "x"`). */
export function parseGoDuration(s: string): number {
  const invalid = () => new Error(`time: invalid duration ${JSON.stringify(s)}`);
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest[0] === '-' ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw invalid();
  let total = 0;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    const [whole = '', frac] = [m[1], m[2]];
    if (whole === '' && (frac === undefined || frac === '')) throw invalid();
    rest = rest.slice(m[0].length);
    const u = /^[^\d.]+/.exec(rest);
    if (!u) throw new Error(`time: missing unit in duration ${JSON.stringify(s)}`);
    const unit = units[u[0]];
    if (unit === undefined) throw new Error(`time: unknown unit ${JSON.stringify(u[0])} in duration ${JSON.stringify(s)}`);
    rest = rest.slice(u[0].length);
    total += Number(whole || '0') * unit + (frac ? Math.floor(Number('0.' + frac) * unit) : 0);
  }
  if (total > 2 ** 63 - 1) throw invalid();
  return sign * total;
}

/** Go's `Duration.String()` for messages (`1ms`, `30s`, `1m30s`). */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${ns / 1e3}µs`;
  if (ns < 1e9) return `${ns / 1e6}ms`;
  const h = Math.floor(ns / 3600e9);
  const m = Math.floor((ns % 3600e9) / 60e9);
  const sec = (ns % 60e9) / 1e9;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${sec}s`;
}
