/**
 * Where BuildKit's conformance data lives: $TSBUILD_CONFORMANCE_DIR, else
 * ../shared/conformance beside the repository. It is optional for users; in CI
 * (CI=true) its absence fails the run, elsewhere the conformance tests skip
 * with this message.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const conformanceDir = process.env.TSBUILD_CONFORMANCE_DIR
  ? resolve(process.env.TSBUILD_CONFORMANCE_DIR)
  : resolve(repoRoot, '../shared/conformance');

export const conformanceAvailable = existsSync(join(conformanceDir, 'buildkit'));

export const conformanceMissingMessage =
  `conformance data not found at ${conformanceDir}: set TSBUILD_CONFORMANCE_DIR to a copy of shared/conformance`;

/** Call in a `before` hook: fails in CI, skips with a clear message elsewhere. */
export function requireConformance(ctx: Mocha.Context): void {
  if (conformanceAvailable) return;
  if (process.env.CI) throw new Error(conformanceMissingMessage);
  console.warn(`    ${conformanceMissingMessage} — skipping`);
  ctx.skip(); // the data is optional for users; CI never skips (see above)
}

/** Reads a conformance file as raw UTF-8: never trimmed or normalized. */
export function readConformance(rel: string): string {
  return readFileSync(join(conformanceDir, rel), 'utf8');
}

/** Every file named `Dockerfile*` under `dir` (absolute), sorted, relative to the conformance root. */
export function findDockerfiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/^Dockerfile/.test(name)) out.push(relative(conformanceDir, p));
    }
  };
  walk(dir);
  return out;
}
