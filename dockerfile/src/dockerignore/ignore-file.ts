/**
 * Reading a .dockerignore and choosing which one applies, as BuildKit does.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { throwIfAborted } from '@tsbuild/core';
import { cleanPath, goTrimSpace } from './go-path.js';

/**
 * The patterns of a .dockerignore file (moby/patternmatcher `ignorefile.ReadAll`):
 * a UTF-8 BOM is dropped; lines are split at `\n` (a trailing `\r` dropped);
 * lines starting with `#` are comments (only in column 0); each line is
 * trimmed and empty ones dropped; `!` is kept in front of the trimmed rest;
 * the rest is Cleaned and a leading `/` removed (`/a/b/` → `a/b`). A lone `!`
 * is kept: `new PatternMatcher` rejects it, which fails the build.
 */
export function readDockerignore(text: string): string[] {
  const lines = (text.startsWith('\uFEFF') ? text.slice(1) : text).split('\n');
  if (lines.at(-1) === '') lines.pop(); // a final newline does not start a line
  const out: string[] = [];
  for (const raw of lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('#')) continue;
    let pattern = goTrimSpace(line);
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = goTrimSpace(pattern.slice(1));
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    out.push(invert ? `!${pattern}` : pattern);
  }
  return out;
}

export interface IgnoreFileChoice {
  /** Absolute path of the ignore file that applies. */
  path: string;
  /** `dockerfile`: `<Dockerfile>.dockerignore` beside the Dockerfile; `context`: `<context>/.dockerignore`. */
  source: 'dockerfile' | 'context';
}

/**
 * Which ignore file applies to a build (BuildKit's dockerui): the
 * Dockerfile-specific `<Dockerfile name>.dockerignore` in the Dockerfile's
 * directory wins over `<context>/.dockerignore`; undefined when neither is a
 * file. `dockerfile` is relative to `contextDir` unless absolute. Choosing the
 * file does not hide the Dockerfile or the ignore file from the frontend; they
 * are excluded from what COPY sees only if a pattern says so.
 */
export async function selectIgnoreFile(
  contextDir: string,
  dockerfile: string,
  options: { signal?: AbortSignal } = {},
): Promise<IgnoreFileChoice | undefined> {
  const dockerfilePath = isAbsolute(dockerfile) ? dockerfile : resolve(contextDir, dockerfile);
  const candidates: IgnoreFileChoice[] = [
    { path: join(dirname(dockerfilePath), `${basename(dockerfilePath)}.dockerignore`), source: 'dockerfile' },
    { path: resolve(contextDir, '.dockerignore'), source: 'context' },
  ];
  for (const candidate of candidates) {
    throwIfAborted(options.signal);
    const st = await stat(candidate.path).catch(() => undefined);
    if (st?.isFile()) return candidate;
  }
  return undefined;
}
