/**
 * The tty UI's colours, as BuildKit's progressui chooses them
 * (util/progress/progressui/init.go `init`, colors.go):
 * - NO_COLOR set non-empty (no-color.org): no colour at all;
 * - defaults (non-Windows): run blue, cancel yellow, error red (aec's BlueF,
 *   YellowF, RedF); output tails faint (display.go, aec.Faint);
 * - BUILDKIT_COLORS=`run=green:error=light-red:cancel=255,165,0` overrides one
 *   key at a time: a name from colors.go's termColorMap or an `r,g,b` triple,
 *   which aec maps to the 256-colour cube (`NewRGB8Bit`: 16 + 36·(r/43) + 6·(g/43) + b/43).
 *   Entries BuildKit would warn about and skip are skipped. `warning` is
 *   accepted but, as in BuildKit's display.go, nothing uses it yet.
 * Each line is wrapped as aec.Apply does: the colour, the text, `ESC[0m`.
 */
export interface Palette {
  run: string;
  cancel: string;
  error: string;
  warning: string;
  faint: string;
}

const sgr = (n: number) => `\x1b[${n}m`;
export const RESET = sgr(0);

const NAMES: Record<string, number> = {
  default: 39, black: 30, red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, white: 37,
  'light-black': 90, 'light-red': 91, 'light-green': 92, 'light-yellow': 93, 'light-blue': 94, 'light-magenta': 95, 'light-cyan': 96, 'light-white': 97,
};

export const DEFAULT_PALETTE: Palette = { run: sgr(34), cancel: sgr(33), error: sgr(31), warning: sgr(33), faint: sgr(2) };

/** The palette for this environment, or undefined for no colour. */
export function paletteFromEnv(env: NodeJS.ProcessEnv): Palette | undefined {
  if (env['NO_COLOR']) return undefined;
  const palette = { ...DEFAULT_PALETTE };
  for (const field of (env['BUILDKIT_COLORS'] ?? '').split(':')) {
    const [key, value, extra] = field.split('=');
    if (value === undefined || extra !== undefined) continue;
    const k = key!.trim().toLowerCase();
    if (k !== 'run' && k !== 'cancel' && k !== 'error' && k !== 'warning') continue;
    const code = colorCode(value.trim().toLowerCase());
    if (code) palette[k] = code;
  }
  return palette;
}

function colorCode(v: string): string | undefined {
  if (NAMES[v] !== undefined) return sgr(NAMES[v]!);
  const rgb = v.split(',');
  if (rgb.length !== 3 || !rgb.every((n) => /^\d+$/.test(n) && Number(n) <= 255)) return undefined;
  const [r, g, b] = rgb.map((n) => Math.floor(Number(n) / 43)) as [number, number, number];
  return `\x1b[38;5;${16 + 36 * r + 6 * g + b}m`;
}
