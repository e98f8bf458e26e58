/**
 * Go's `fmt` spellings that BuildKit writes into history `created_by`
 * (`CMD %q` of a []string, `VOLUME %v`, `EXPOSE %v` of a port map, the
 * HEALTHCHECK struct): reproduced so our history reads exactly like theirs.
 */
import { goQuote } from '../parser/index.js';

/** `%q` of a string. */
export { goQuote };

/** `%q` of a []string: `["a" "b"]`. */
export const goQuoteSlice = (items: readonly string[]): string => `[${items.map(goQuote).join(' ')}]`;

/** `%v` of a []string: `[a b]`. */
export const goSlice = (items: readonly string[]): string => `[${items.join(' ')}]`;

/** `%v` of a map[string]struct{}: `map[443/tcp:{} 80/tcp:{}]` (keys sorted, as fmt sorts them). */
export const goSetMap = (keys: readonly string[]): string =>
  `map[${[...new Set(keys)].sort().map((k) => `${k}:{}`).join(' ')}]`;

/** Go's `time.Duration.String()` for a nanosecond count. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(ns);
  let out: string;
  if (u < 1e9) {
    const [unit, div] = u < 1e3 ? ['ns', 1] : u < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = `${trimFraction(u / (div as number))}${unit}`;
  } else {
    const h = Math.floor(u / 3.6e12);
    u -= h * 3.6e12;
    const m = Math.floor(u / 6e10);
    u -= m * 6e10;
    const s = `${trimFraction(u / 1e9)}s`;
    out = h ? `${h}h${m}m${s}` : m ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

const trimFraction = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(9).replace(/0+$/, ''));

/** `%q` of an int: a quoted rune, e.g. `'\x03'`. */
export function goQuoteRune(n: number): string {
  if (n >= 0x20 && n < 0x7f) return n === 0x27 ? `'\\''` : n === 0x5c ? `'\\\\'` : `'${String.fromCharCode(n)}'`;
  if (n < 0x100) return `'\\x${n.toString(16).padStart(2, '0')}'`;
  return `'${String.fromCodePoint(n)}'`;
}
