/**
 * Helpers for comparing two `docker save` archives (docker's legacy layout:
 * manifest.json, the raw config blob, one tar per layer — tsbuild's
 * `save --format docker` writes the same layout): the raw image config, the
 * fields of it that a Dockerfile decides, and a listing of each layer's
 * entries. The diffs are lists of readable lines, empty when equal.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { isDeepStrictEqual } from 'node:util';
import * as tar from 'tar';

export interface SavedImage {
  /** The raw config blob, parsed. */
  config: RawImageConfig;
  /** Absolute paths of the layer tars, base first. */
  layers: string[];
}

export interface RawImageConfig {
  os?: string;
  architecture?: string;
  author?: string;
  config?: Record<string, unknown>;
  rootfs?: { type: string; diff_ids: string[] };
  history?: Array<{ created?: string; created_by?: string; comment?: string; empty_layer?: boolean; author?: string }>;
}

/** Unpacks a one-image `docker save` archive into `dir` and reads its config. */
export async function readSavedImage(archive: string, dir: string): Promise<SavedImage> {
  mkdirSync(dir, { recursive: true });
  await tar.x({ file: archive, cwd: dir });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Array<{ Config: string; Layers: string[] }>;
  if (manifest.length !== 1) throw new Error(`${archive}: expected one image, found ${manifest.length}`);
  const [image] = manifest as [{ Config: string; Layers: string[] }];
  return { config: JSON.parse(readFileSync(join(dir, image.Config), 'utf8')) as RawImageConfig, layers: image.Layers.map((l) => join(dir, l)) };
}

/** The container-config fields the Dockerfile decides, as compared (absent and undefined are the same). */
export const CONFIG_FIELDS = [
  'Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'ExposedPorts', 'Volumes', 'Labels', 'StopSignal', 'Healthcheck', 'OnBuild', 'Shell', 'ArgsEscaped',
] as const;

/** The comparable view of a config: no timestamps, history reduced to what a Dockerfile writes. */
export function configView(c: RawImageConfig): Record<string, unknown> {
  const view: Record<string, unknown> = { os: c.os, architecture: c.architecture, author: c.author, 'rootfs.diff_ids.length': c.rootfs?.diff_ids.length };
  for (const f of CONFIG_FIELDS) view[`config.${f}`] = c.config?.[f];
  (c.history ?? []).forEach((h, i) => {
    view[`history[${i}]`] = { created_by: h.created_by, empty_layer: h.empty_layer ?? false, comment: h.comment };
  });
  return view;
}

export interface FieldDiff {
  field: string;
  buildkit: unknown;
  tsbuild: unknown;
}

/** Fields of two views that differ. */
export function diffViews(buildkit: Record<string, unknown>, tsbuild: Record<string, unknown>): FieldDiff[] {
  const keys = [...new Set([...Object.keys(buildkit), ...Object.keys(tsbuild)])].sort(byField);
  return keys.filter((k) => !isDeepStrictEqual(clean(buildkit[k]), clean(tsbuild[k]))).map((k) => ({ field: k, buildkit: buildkit[k], tsbuild: tsbuild[k] }));
}

const byField = (a: string, b: string): number => {
  const ha = /^history\[(\d+)\]$/.exec(a);
  const hb = /^history\[(\d+)\]$/.exec(b);
  if (ha && hb) return Number(ha[1]) - Number(hb[1]);
  return a < b ? -1 : a > b ? 1 : 0;
};

/** JSON drops undefined members; so does the comparison. */
const clean = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

export function formatFieldDiffs(diffs: FieldDiff[]): string {
  return diffs.map((d) => `  ${d.field}:\n    buildkit: ${JSON.stringify(d.buildkit)}\n    tsbuild:  ${JSON.stringify(d.tsbuild)}`).join('\n');
}

export interface LayerEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'other';
  mode: string;
  uid: number;
  gid: number;
  size?: number;
  link?: string;
  sha256?: string;
}

/** Tar typeflags → entry types ('0' and NUL are regular files, '7' contiguous files). */
const TYPES: Record<string, LayerEntry['type']> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};

const normalizePath = (p: string): string => p.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');

/**
 * The entries of one layer tar (gzip or plain) keyed by path: type, mode,
 * owner, and for files size and content hash, for links the target. Mtimes
 * are left out; a directory's size means nothing and is left out too; so is
 * the link name a non-link entry carries (moby's overlay whiteout conversion
 * leaves a stale one on `.wh.` files).
 *
 * Read with a small tar reader of its own (ustar, PAX `x` headers, GNU long
 * names): node-tar drops, with a mere warning, every non-link entry that has
 * a link name ("linkpath forbidden") — exactly those dockerd whiteouts.
 * Anything this reader cannot read throws; no entry is ever skipped.
 */
export function listLayer(file: string): Map<string, LayerEntry> {
  let buf = readFileSync(file);
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  const out = new Map<string, LayerEntry>();
  const str = (b: Buffer): string => {
    const nul = b.indexOf(0);
    return b.subarray(0, nul < 0 ? b.length : nul).toString('utf8');
  };
  const num = (b: Buffer): number => {
    if (b[0]! & 0x80) {
      let n = b[0]! & 0x7f;
      for (let i = 1; i < b.length; i++) n = n * 256 + b[i]!;
      return n;
    }
    const t = str(b).trim();
    return t === '' ? 0 : parseInt(t, 8);
  };
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  let off = 0;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const sum = h.reduce((a, b, i) => a + (i >= 148 && i < 156 ? 32 : b), 0);
    if (sum !== num(h.subarray(148, 156))) throw new Error(`${file}: bad tar header checksum at offset ${off}`);
    const flag = String.fromCharCode(h[156]!);
    const size = pax.size !== undefined ? Number(pax.size) : num(h.subarray(124, 136));
    const data = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (flag === 'x') {
      pax = { ...pax, ...parsePax(data) };
      continue;
    }
    if (flag === 'g') continue;
    if (flag === 'L' || flag === 'K') {
      if (flag === 'L') longName = str(data);
      else longLink = str(data);
      continue;
    }
    const ustar = h.subarray(257, 263).toString('latin1') === 'ustar\0';
    const prefix = ustar ? str(h.subarray(345, 500)) : '';
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${str(h.subarray(0, 100))}` : str(h.subarray(0, 100)));
    const linkname = pax.linkpath ?? longLink ?? str(h.subarray(157, 257));
    const type = TYPES[flag] ?? 'other';
    const entry: LayerEntry = {
      path: normalizePath(name), type, mode: (num(h.subarray(100, 108)) & 0o7777).toString(8).padStart(4, '0'),
      uid: pax.uid !== undefined ? Number(pax.uid) : num(h.subarray(108, 116)), gid: pax.gid !== undefined ? Number(pax.gid) : num(h.subarray(116, 124)),
    };
    if (type === 'symlink') entry.link = linkname;
    if (type === 'hardlink') entry.link = normalizePath(linkname);
    if (type === 'file') {
      entry.size = size;
      entry.sha256 = createHash('sha256').update(data).digest('hex');
    }
    out.set(entry.path, entry);
    pax = {};
    longName = undefined;
    longLink = undefined;
  }
  return out;
}

/** PAX extended header records: `<length> <key>=<value>\n`. */
function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.subarray(i, sp).toString('latin1'), 10);
    if (!len) break;
    const record = data.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}

/** Applies one layer's entries to a merged view of the layers below (whiteouts delete). */
export function applyLayer(lower: Map<string, LayerEntry>, layer: Map<string, LayerEntry>): Map<string, LayerEntry> {
  const out = new Map(lower);
  for (const [path, e] of layer) {
    const base = path.split('/').at(-1)!;
    if (base === '.wh..wh..opq') {
      const dir = path.slice(0, -base.length);
      for (const p of out.keys()) if (p.startsWith(dir)) out.delete(p);
    } else if (base.startsWith('.wh.')) {
      const gone = path.slice(0, -base.length) + base.slice(4);
      for (const p of out.keys()) if (p === gone || p.startsWith(`${gone}/`)) out.delete(p);
    } else {
      out.set(path, e);
    }
  }
  return out;
}

const isWhiteout = (path: string): boolean => (path.split('/').at(-1) ?? '').startsWith('.wh.');

/**
 * Readable lines for every path whose entry differs, or is on one side only.
 * Two rules, both about what leaves the unpacked file system unchanged:
 * - a directory entry on one side only that repeats the directory below it
 *   (same type, mode and owner: `lower` is the merged view of the layers
 *   below) changes nothing but its mtime, which is not compared — BuildKit
 *   in dockerd lists `/etc` in every RUN layer because runc created and
 *   removed the /etc/hosts and /etc/resolv.conf mount points in it;
 * - a whiteout's mode is never applied: dockerd's graph driver writes 0600
 *   (moby's overlay whiteout conversion), containerd's archive.WriteDiff —
 *   what standalone BuildKit exports with — writes 0000, as tsbuild does.
 *   tsbuild's is checked to be 0000; the rest of the entry is compared.
 */
export function diffLayers(buildkit: Map<string, LayerEntry>, tsbuild: Map<string, LayerEntry>, lower: Map<string, LayerEntry> = new Map()): string[] {
  const lines: string[] = [];
  const paths = [...new Set([...buildkit.keys(), ...tsbuild.keys()])].sort();
  const show = (e: LayerEntry): string => {
    const { path: _p, ...rest } = e;
    return JSON.stringify(rest);
  };
  const repeatsLower = (e: LayerEntry): boolean => {
    const l = lower.get(e.path);
    return e.type === 'dir' && l !== undefined && l.type === 'dir' && l.mode === e.mode && l.uid === e.uid && l.gid === e.gid;
  };
  for (const p of paths) {
    const a = buildkit.get(p);
    const b = tsbuild.get(p);
    if (!a) {
      if (!repeatsLower(b!)) lines.push(`  + ${p} only in tsbuild: ${show(b!)}`);
    } else if (!b) {
      if (!repeatsLower(a)) lines.push(`  - ${p} only in buildkit: ${show(a)}`);
    } else if (isWhiteout(p)) {
      if (b.mode !== '0000') lines.push(`  ~ ${p}: tsbuild's whiteout has mode ${b.mode}, expected 0000 (containerd's WriteDiff)`);
      if (!isDeepStrictEqual({ ...a, mode: '' }, { ...b, mode: '' })) lines.push(`  ~ ${p}\n      buildkit: ${show(a)}\n      tsbuild:  ${show(b)}`);
    } else if (!isDeepStrictEqual(a, b)) {
      lines.push(`  ~ ${p}\n      buildkit: ${show(a)}\n      tsbuild:  ${show(b)}`);
    }
  }
  return lines;
}
