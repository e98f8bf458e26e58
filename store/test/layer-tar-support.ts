/**
 * Helpers for the layer tar tests: hand-made tar bytes (built with node-tar's
 * Header, independent of the packer under test) and a comparable snapshot of
 * a tree (type, mode, owner, size, content hash, link target, mtime, xattrs).
 */
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Header } from 'tar';
import { getAttributeSync, listAttributesSync } from 'fs-xattr';

export interface HandEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'BlockDevice' | 'FIFO';
  body?: string | Buffer;
  linkpath?: string;
  mode?: number;
  devmaj?: number;
  devmin?: number;
  /** Extra PAX records (e.g. a long `path`); written as an 'x' header before the entry. */
  pax?: Record<string, string>;
}

function block(h: ConstructorParameters<typeof Header>[0]): Buffer {
  const b = Buffer.alloc(512);
  new Header(h as never).encode(b);
  return b;
}

function padded(b: Buffer): Buffer {
  const rem = b.length % 512;
  return rem === 0 ? b : Buffer.concat([b, Buffer.alloc(512 - rem)]);
}

function paxBody(records: Record<string, string>): Buffer {
  return Buffer.concat(
    Object.entries(records).map(([k, v]) => {
      const rest = ` ${k}=${v}\n`;
      let len = Buffer.byteLength(rest) + 1;
      while (String(len).length + Buffer.byteLength(rest) !== len) len = String(len).length + Buffer.byteLength(rest);
      return Buffer.from(`${len}${rest}`);
    }),
  );
}

/** The bytes of a tar holding `entries`, with end-of-archive blocks unless `end: false`. */
export function handTar(entries: HandEntry[], options: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    if (e.pax) {
      const pb = paxBody(e.pax);
      parts.push(block({ path: 'PaxHeaders.0/x', type: 'ExtendedHeader', size: pb.length, mode: 0o644, mtime: new Date(0) }), padded(pb));
    }
    const path = e.path.length >= 100 ? e.path.slice(0, 99) : e.path;
    parts.push(
      block({
        path, type: e.type ?? 'File', size: e.type === undefined || e.type === 'File' ? body.length : 0,
        mode: e.mode ?? 0o644, uid: 0, gid: 0, mtime: new Date(1_600_000_000_000),
        linkpath: e.linkpath ?? '', devmaj: e.devmaj ?? 0, devmin: e.devmin ?? 0, uname: '', gname: '',
      }),
    );
    if (body.length > 0) parts.push(padded(body));
  }
  if (options.end !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function streamOf(b: Buffer): Readable {
  return Readable.from([b]);
}

export async function collect(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export interface NodeInfo {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  sha256?: string;
  link?: string;
  rdev?: number;
  mtime?: number;
  xattrs: Record<string, string>;
}

async function fileHash(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

/** Every entry under `root` by relative path. Directory mtimes only with `dirMtimes`. */
export async function treeInfo(root: string, options: { dirMtimes?: boolean; mtimes?: boolean } = {}): Promise<Record<string, NodeInfo>> {
  const out: Record<string, NodeInfo> = {};
  const walk = async (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = join(root, r);
      const st = lstatSync(abs);
      const type = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : 'other';
      const xattrs: Record<string, string> = {};
      if (type !== 'symlink') {
        for (const x of listAttributesSync(abs).sort()) {
          if (!x.startsWith('trusted.overlay.')) xattrs[x] = getAttributeSync(abs, x).toString('hex');
        }
      }
      const info: NodeInfo = { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, xattrs };
      if (type === 'file') Object.assign(info, { size: st.size, sha256: await fileHash(abs) });
      if (type === 'symlink') info.link = readlinkSync(abs);
      if (type === 'char' || type === 'block') info.rdev = st.rdev;
      if (options.mtimes !== false && (type !== 'dir' || options.dirMtimes)) info.mtime = Math.floor(st.mtimeMs / 1000);
      out[r] = info;
      if (type === 'dir') await walk(r);
    }
  };
  await walk('');
  return out;
}
