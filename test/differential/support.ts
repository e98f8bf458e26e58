/**
 * The differential cases against BuildKit (issue 5): one directory per case
 * under test/differential/cases/<name>/ with its Dockerfile, its small
 * context, `case.json` (build flags and the documented differences) and
 * `buildkit.json` — what BuildKit (dockerd 20.10, `DOCKER_BUILDKIT=1 docker
 * build --network=host`) made of it, written by
 * scripts/record-buildkit-fixtures.ts. test/differential.test.ts builds the
 * same cases with tsbuild and compares against that fixture, no dockerd.
 *
 * The fixture holds no file contents: the comparable config (timestamps
 * excluded), the history (created_by, empty_layer, comment) and, per layer
 * the build made, the file tree (path, type, mode, uid, gid, size, sha256,
 * link target), sorted by path — mtimes excluded (the only normalizations
 * are those of test/support/parity.ts: paths without `./`, no mtimes, no
 * directory sizes).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsbuild } from '../../cli/test/support.js';
import { makeBusyboxRootfs } from '../support/fixtures.js';
import { configView, listLayer, readSavedImage, type LayerEntry, type RawImageConfig, type SavedImage } from '../support/parity.js';

export const CASES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), 'cases');

/** Files of a case directory that are not part of its build context. */
const NOT_CONTEXT = new Set(['case.json', 'buildkit.json']);

export interface CaseSpec {
  title: string;
  buildArgs?: Record<string, string>;
  target?: string;
  /** Secret id → its content; written outside the context and passed as `--secret id=<id>,src=<file>`. */
  secrets?: Record<string, string>;
  /** Context path → octal mode (git keeps only 0644/0755; everything else is set here). */
  modes?: Record<string, string>;
  /** Tar archives made in the context before the build (for ADD): of some context paths, compressed or not. */
  tarballs?: Array<{ name: string; of: string[]; compress?: 'gzip' | 'bzip2' | 'xz' }>;
  /** Hard links made in the context before the build (git keeps none): link path → the existing file it becomes another name of. */
  hardlinks?: Record<string, string>;
  /** FIFOs made in the context before the build (git keeps none), mode 0644 unless `modes` names them. */
  fifos?: string[];
  /** Cases built (and tagged `<case name>`) before this one: a base image FROM or COPY --from refers to. */
  needs?: string[];
  /**
   * Fields (as test/support/parity.ts's `diffViews` names them) where tsbuild
   * deliberately differs from BuildKit in dockerd 20.10: the value tsbuild
   * must write there, and a reason documented in test/differential.test.ts.
   */
  differences?: Record<string, { reason: string; tsbuild: unknown }>;
}

export interface Fixture {
  /** The image ID of the shared busybox base both builders started from, and its layer and history counts. */
  base: { id: string; layers: number; history: number };
  /** configView without the history entries. */
  config: Record<string, unknown>;
  history: Array<{ created_by?: string; empty_layer: boolean; comment?: string }>;
  /** The layers above the base, each with the index of the history entry that made it. */
  layers: Array<{ history: number; entries: LayerEntry[] }>;
}

export function caseNames(): string[] {
  return readdirSync(CASES_DIR).filter((n) => existsSync(join(CASES_DIR, n, 'case.json'))).sort();
}

export function readCase(name: string): CaseSpec {
  return JSON.parse(readFileSync(join(CASES_DIR, name, 'case.json'), 'utf8')) as CaseSpec;
}

export function fixturePath(name: string): string {
  return join(CASES_DIR, name, 'buildkit.json');
}

/** The cases in an order where every case comes after the ones it needs. */
export function inBuildOrder(names: string[]): string[] {
  const out: string[] = [];
  const visit = (n: string): void => {
    if (out.includes(n)) return;
    for (const d of readCase(n).needs ?? []) visit(d);
    out.push(n);
  };
  names.forEach(visit);
  return out;
}

/**
 * Copies a case's context into `dest` (symlinks kept) with deterministic
 * modes: directories 0755, files 0644 or 0755 (executable in git), then
 * its FIFOs, then `modes`; then its hard links and its tarballs. Returns the build flags both builders get.
 */
export function prepareContext(name: string, dest: string, secretsDir: string): string[] {
  const spec = readCase(name);
  const src = join(CASES_DIR, name);
  mkdirSync(dest, { recursive: true });
  for (const entry of readdirSync(src)) if (!NOT_CONTEXT.has(entry)) cpSync(join(src, entry), join(dest, entry), { recursive: true, verbatimSymlinks: true });
  const fix = (p: string): void => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    if (st.isDirectory()) {
      chmodSync(p, 0o755);
      for (const e of readdirSync(p)) fix(join(p, e));
    } else chmodSync(p, st.mode & 0o100 ? 0o755 : 0o644);
  };
  fix(dest);
  for (const p of spec.fifos ?? []) {
    mkdirSync(dirname(join(dest, p)), { recursive: true });
    execFileSync('mkfifo', ['-m', '644', '--', join(dest, p)]);
  }
  for (const [p, mode] of Object.entries(spec.modes ?? {})) chmodSync(join(dest, p), parseInt(mode, 8));
  for (const [link, existing] of Object.entries(spec.hardlinks ?? {})) {
    rmSync(join(dest, link), { force: true });
    linkSync(join(dest, existing), join(dest, link));
  }
  for (const t of spec.tarballs ?? []) {
    const compress = t.compress ? [`--${t.compress}`] : [];
    execFileSync('tar', ['-c', ...compress, '-f', join(dest, t.name), '--owner=0', '--group=0', '--numeric-owner', '--sort=name', '--mtime=@0', '-C', dest, ...t.of]);
  }
  const flags: string[] = [];
  for (const [k, v] of Object.entries(spec.buildArgs ?? {})) flags.push('--build-arg', `${k}=${v}`);
  if (spec.target) flags.push('--target', spec.target);
  for (const [id, content] of Object.entries(spec.secrets ?? {})) {
    mkdirSync(secretsDir, { recursive: true });
    const file = join(secretsDir, `${name}.${id}`);
    writeFileSync(file, content);
    flags.push('--secret', `id=${id},src=${file}`);
  }
  return flags;
}

/**
 * The shared base, `busybox:latest` in the tsbuild store at `root`: the
 * machine's busybox-static imported with a fixed history comment and
 * SOURCE_DATE_EPOCH=0, so its image ID depends only on the busybox binary
 * (the fixtures record it; a different busybox means re-recording). Returns
 * its `docker save` archive (for `docker load`), the saved image and the
 * fixture's `base`.
 */
export async function makeBase(root: string, tmp: string): Promise<{ archive: string; image: SavedImage; base: Fixture['base'] }> {
  const rootfs = makeBusyboxRootfs(join(tmp, 'rootfs'));
  const epoch = process.env.SOURCE_DATE_EPOCH;
  process.env.SOURCE_DATE_EPOCH = '0';
  try {
    const r = await tsbuild(root, 'import', '-m', 'differential base: busybox-static', rootfs, '-t', 'busybox:latest');
    if (r.code !== 0) throw new Error(`tsbuild import: ${r.stderr}`);
  } finally {
    if (epoch === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = epoch;
  }
  const archive = join(tmp, 'busybox.tar');
  const saved = await tsbuild(root, 'save', '--format', 'docker', '-o', archive, 'busybox:latest');
  if (saved.code !== 0) throw new Error(`tsbuild save: ${saved.stderr}`);
  const id = JSON.parse((await tsbuild(root, 'inspect', 'busybox:latest')).stdout)[0].Id as string;
  const image = await readSavedImage(archive, join(tmp, 'busybox-saved'));
  return { archive, image, base: { id, layers: image.layers.length, history: image.config.history?.length ?? 0 } };
}

/** History index → the layer tar that entry made (entries with empty_layer make none). */
export function layersByHistory(image: SavedImage): Map<number, string> {
  const out = new Map<number, string>();
  let next = 0;
  (image.config.history ?? []).forEach((h, i) => {
    if (!h.empty_layer && next < image.layers.length) out.set(i, image.layers[next++]!);
  });
  return out;
}

/** The fixture view of a saved image built on `base` (its image ID, layer and history counts). */
export function fixtureOf(image: SavedImage, base: Fixture['base']): Fixture {
  const view = configView(image.config);
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(view)) if (!k.startsWith('history[') && v !== undefined) config[k] = v;
  const history = (image.config.history ?? []).map((h) => ({ created_by: h.created_by, empty_layer: h.empty_layer ?? false, comment: h.comment }));
  const layers: Fixture['layers'] = [];
  for (const [i, tar] of layersByHistory(image)) {
    if (i < base.history) continue;
    layers.push({ history: i, entries: [...listLayer(tar).values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) });
  }
  return { base, config, history, layers };
}

/** The flat view `diffViews` compares, rebuilt from a fixture. */
export function viewOf(f: Fixture): Record<string, unknown> {
  const view: Record<string, unknown> = { ...f.config };
  f.history.forEach((h, i) => { view[`history[${i}]`] = h; });
  return view;
}

/** Layer entries as a map by path (what diffLayers / applyLayer take). */
export function entryMap(entries: LayerEntry[]): Map<string, LayerEntry> {
  return new Map(entries.map((e) => [e.path, e]));
}

/** Stable JSON: one layer entry per line, so a fixture's git diff reads well and the file stays small. */
export function formatFixture(f: Fixture): string {
  const lines: string[] = ['{'];
  lines.push(`  "base": ${JSON.stringify(f.base)},`);
  lines.push(`  "config": ${JSON.stringify(f.config, null, 2).replace(/\n/g, '\n  ')},`);
  lines.push('  "history": [', f.history.map((h) => `    ${JSON.stringify(h)}`).join(',\n'), '  ],');
  lines.push('  "layers": [');
  lines.push(f.layers.map((l) => `    { "history": ${l.history}, "entries": [\n${l.entries.map((e) => `      ${JSON.stringify(e)}`).join(',\n')}\n    ] }`).join(',\n'));
  lines.push('  ]', '}');
  return `${lines.join('\n')}\n`;
}

export type { RawImageConfig };
