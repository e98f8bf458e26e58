/**
 * A streaming tar reader for layers: ustar headers (decoded with node-tar's
 * `Header`), PAX extended headers (binary-safe, including `SCHILY.xattr.*`),
 * GNU long names and long links. Bodies are streamed, never buffered.
 *
 * Why not node-tar's `Parser`: its PAX parser drops `SCHILY.xattr.*` records
 * and decodes extended headers as UTF-8 text (a binary `security.capability`
 * value would be corrupted), and it reports a truncated archive as a warning.
 * Here every framing problem is an InvalidLayerTarError (code
 * LAYER_TAR_INVALID) naming the entry.
 *
 * Contract: each yielded entry's `body` must be consumed (or abandoned) before
 * asking for the next entry; whatever is left is skipped.
 */
import { Header } from 'tar';
import { throwIfAborted } from '@tsbuild/core';
import { InvalidLayerTarError } from './tar-errors.js';
import type { TarEntryType } from './tar-header.js';

export interface TarReadEntry {
  /** The path as written in the archive (after PAX / GNU long-name overrides), not sanitized. */
  path: string;
  type: TarEntryType | 'Unsupported';
  /** The raw typeflag, for messages about unsupported entries. */
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Whole seconds since the epoch. */
  mtime: number;
  linkpath: string;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Buffer>;
  body: AsyncIterable<Buffer>;
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'File', '\0': 'File', '7': 'File', '1': 'Link', '2': 'SymbolicLink',
  '3': 'CharacterDevice', '4': 'BlockDevice', '5': 'Directory', '6': 'FIFO',
};
const MAX_META = 1024 * 1024;

/** Exact-size reads over an async iterable of chunks. */
class ByteSource {
  #it: AsyncIterator<Buffer>;
  #buf: Buffer = Buffer.alloc(0);
  #done = false;
  constructor(source: AsyncIterable<Buffer | string>) {
    this.#it = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }
  async #fill(): Promise<boolean> {
    if (this.#done) return false;
    const r = await this.#it.next();
    if (r.done) return !(this.#done = true);
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    return true;
  }
  /** Exactly n bytes; undefined at a clean end; throws when the data stops inside them. */
  async read(n: number, entry: string | undefined): Promise<Buffer | undefined> {
    while (this.#buf.length < n) {
      if (!(await this.#fill())) {
        if (this.#buf.length === 0) return undefined;
        throw new InvalidLayerTarError(`truncated: needed ${n} bytes, only ${this.#buf.length} left`, entry);
      }
    }
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }
  /** Up to max bytes (at least 1), or undefined at the end. */
  async chunk(max: number): Promise<Buffer | undefined> {
    if (this.#buf.length === 0 && !(await this.#fill())) return undefined;
    const out = this.#buf.subarray(0, Math.min(max, this.#buf.length));
    this.#buf = this.#buf.subarray(out.length);
    return out;
  }
  async drain(): Promise<void> {
    this.#buf = Buffer.alloc(0);
    while (await this.#fill()) this.#buf = Buffer.alloc(0);
  }
}

export async function* readTar(source: AsyncIterable<Buffer | string>, options: { signal?: AbortSignal } = {}): AsyncGenerator<TarReadEntry> {
  const src = new ByteSource(source);
  let pax = new Map<string, Buffer>();
  let lastPath: string | undefined;
  for (;;) {
    throwIfAborted(options.signal);
    const block = await src.read(512, lastPath);
    if (block === undefined) {
      if (pax.size > 0) throw new InvalidLayerTarError('truncated: archive ends after an extended header', lastPath);
      return; // no end-of-archive blocks: accepted, like Go's archive/tar
    }
    if (block.every((b) => b === 0)) {
      await src.drain(); // the second zero block and record padding
      return;
    }
    const header = new Header(block);
    if (!header.cksumValid) throw new InvalidLayerTarError('bad header checksum', lastPath);
    const typeflag = String.fromCharCode(block[156]!);
    const size = pax.has('size') ? Number(pax.get('size')!.toString()) : (header.size ?? 0);
    if (!Number.isSafeInteger(size) || size < 0) throw new InvalidLayerTarError(`bad size ${size}`, header.path);
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (size > MAX_META) throw new InvalidLayerTarError(`extended header of ${size} bytes`, lastPath);
      const body = (await readPadded(src, size, lastPath)) ?? Buffer.alloc(0);
      if (typeflag === 'x') pax = new Map([...pax, ...parsePax(body, lastPath)]);
      else if (typeflag === 'L') pax.set('path', nulTerminated(body));
      else if (typeflag === 'K') pax.set('linkpath', nulTerminated(body));
      continue; // global headers ('g') carry nothing a layer needs
    }
    const path = pax.get('path')?.toString() ?? header.path ?? '';
    lastPath = path;
    let type: TarEntryType | 'Unsupported' = TYPES[typeflag] ?? 'Unsupported';
    if (type === 'File' && typeflag !== '7' && path.endsWith('/')) type = 'Directory';
    const xattrs = new Map<string, Buffer>();
    for (const [k, v] of pax) if (k.startsWith('SCHILY.xattr.')) xattrs.set(k.slice('SCHILY.xattr.'.length), v);
    const bodySize = type === 'Directory' || type === 'SymbolicLink' || type === 'Link' ? 0 : size;
    const state = { remaining: size };
    const entry: TarReadEntry = {
      path, type, typeflag, size: bodySize, xattrs,
      mode: (header.mode ?? 0) & 0o7777,
      uid: num(pax, 'uid') ?? header.uid ?? 0,
      gid: num(pax, 'gid') ?? header.gid ?? 0,
      mtime: Math.floor(num(pax, 'mtime') ?? (header.mtime ? header.mtime.getTime() / 1000 : 0)),
      linkpath: pax.get('linkpath')?.toString() ?? header.linkpath ?? '',
      devmajor: header.devmaj ?? 0,
      devminor: header.devmin ?? 0,
      body: bodyOf(src, state, path, options.signal),
    };
    pax = new Map();
    yield entry;
    while (state.remaining > 0) {
      const c = await src.chunk(state.remaining);
      if (c === undefined) throw new InvalidLayerTarError(`truncated: ${state.remaining} bytes of content missing`, path);
      state.remaining -= c.length;
    }
    await readPadding(src, size, path);
  }
}

async function* bodyOf(src: ByteSource, state: { remaining: number }, path: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
  while (state.remaining > 0) {
    throwIfAborted(signal);
    const c = await src.chunk(Math.min(state.remaining, 1024 * 1024));
    if (c === undefined) throw new InvalidLayerTarError(`truncated: ${state.remaining} bytes of content missing`, path);
    state.remaining -= c.length;
    yield c;
  }
}

async function readPadded(src: ByteSource, size: number, entry: string | undefined): Promise<Buffer | undefined> {
  if (size === 0) return undefined;
  const body = await src.read(size, entry);
  if (body === undefined) throw new InvalidLayerTarError('truncated: extended header body missing', entry);
  await readPadding(src, size, entry);
  return Buffer.from(body);
}

async function readPadding(src: ByteSource, size: number, entry: string | undefined): Promise<void> {
  const rem = size % 512;
  if (rem !== 0 && (await src.read(512 - rem, entry)) === undefined) throw new InvalidLayerTarError('truncated: padding missing', entry);
}

function nulTerminated(b: Buffer): Buffer {
  const i = b.indexOf(0);
  return i < 0 ? b : b.subarray(0, i);
}

function num(pax: Map<string, Buffer>, key: string): number | undefined {
  const v = pax.get(key);
  if (v === undefined) return undefined;
  const n = Number(v.toString());
  return Number.isFinite(n) ? n : undefined;
}

/** PAX records `<len> <key>=<value>\n`, values kept as bytes. */
export function parsePax(body: Buffer, entry: string | undefined): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < body.length) {
    if (body[pos] === 0) break; // trailing NUL padding some writers leave
    const space = body.indexOf(0x20, pos);
    const len = space < 0 ? NaN : Number(body.subarray(pos, space).toString('latin1'));
    if (!Number.isSafeInteger(len) || len <= space - pos || pos + len > body.length || body[pos + len - 1] !== 0x0a) {
      throw new InvalidLayerTarError('malformed PAX record', entry);
    }
    const kv = body.subarray(space + 1, pos + len - 1);
    const eq = kv.indexOf(0x3d);
    if (eq < 0) throw new InvalidLayerTarError('malformed PAX record (no "=")', entry);
    out.set(kv.subarray(0, eq).toString('utf8'), Buffer.from(kv.subarray(eq + 1)));
    pos += len;
  }
  return out;
}
