/**
 * Encoding of one tar entry's header blocks, deterministically: a ustar block
 * built with node-tar's `Header`, preceded by a PAX extended header when a
 * field does not fit ustar (long or non-ASCII names and link targets, sizes
 * ≥ 8 GiB, large ids) or the entry has xattrs.
 *
 * The PAX body is written here rather than with node-tar's `Pax` because that
 * class knows neither `SCHILY.xattr.*` records nor binary values (a
 * `security.capability` value is raw bytes, and a record's length counts
 * bytes). uname/gname are always empty, atime/ctime never written, so the
 * bytes depend only on the tree.
 */
import { Header } from 'tar';

export type TarEntryType = 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'FIFO' | 'CharacterDevice' | 'BlockDevice';

/** One entry as the packers describe it and the applier consumes it. */
export interface TarEntry {
  /** Relative, no leading `./` or `/`; a directory's path ends with `/`. */
  path: string;
  type: TarEntryType;
  /** Permission bits including setuid/setgid/sticky (0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Body size; 0 for everything but `File`. */
  size: number;
  /** Whole seconds since the epoch. */
  mtime: number;
  /** Symlink target (as is) or hardlink target (a path in the layer). */
  linkpath?: string;
  devmajor?: number;
  devminor?: number;
  /** Sorted by name when encoded. */
  xattrs?: ReadonlyMap<string, Buffer>;
}

const USTAR_MAX_SIZE = 0o77777777777;
const USTAR_MAX_ID = 0o7777777;

/** One PAX record: `<len> <key>=<value>\n`, where len counts its own digits. */
export function paxRecord(key: string, value: Buffer | string): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
  let len = body.length + String(body.length).length;
  if (String(len).length !== String(body.length).length) len = body.length + String(len).length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function fitsUstarName(s: string, max: number): boolean {
  return Buffer.byteLength(s) === s.length && s.length < max;
}

/** Header blocks for `entry` (a multiple of 512 bytes), without the body. */
export function encodeHeader(entry: TarEntry): Buffer {
  const records: Buffer[] = [];
  const needsPathPax = !fitsUstarName(entry.path, 100);
  if (needsPathPax) records.push(paxRecord('path', entry.path));
  if (entry.linkpath !== undefined && !fitsUstarName(entry.linkpath, 100)) records.push(paxRecord('linkpath', entry.linkpath));
  if (entry.size > USTAR_MAX_SIZE) records.push(paxRecord('size', String(entry.size)));
  if (entry.uid > USTAR_MAX_ID) records.push(paxRecord('uid', String(entry.uid)));
  if (entry.gid > USTAR_MAX_ID) records.push(paxRecord('gid', String(entry.gid)));
  for (const name of [...(entry.xattrs?.keys() ?? [])].sort()) {
    records.push(paxRecord(`SCHILY.xattr.${name}`, entry.xattrs!.get(name)!));
  }
  const blocks: Buffer[] = [];
  if (records.length > 0) {
    const body = Buffer.concat(records);
    const base = entry.path.replace(/\/$/, '').split('/').pop() ?? '';
    blocks.push(ustar({ path: truncate(`PaxHeaders.0/${base}`), type: 'ExtendedHeader', size: body.length, mode: 0o644, uid: 0, gid: 0, mtime: entry.mtime }));
    blocks.push(pad(body));
  }
  blocks.push(
    ustar({
      // ustar fields that PAX overrides carry a truncated ASCII stand-in.
      path: needsPathPax ? truncate(asciiOnly(entry.path)) : entry.path,
      type: entry.type,
      mode: entry.mode & 0o7777,
      uid: Math.min(entry.uid, USTAR_MAX_ID),
      gid: Math.min(entry.gid, USTAR_MAX_ID),
      size: Math.min(entry.size, USTAR_MAX_SIZE),
      mtime: entry.mtime,
      linkpath: entry.linkpath === undefined ? undefined : fitsUstarName(entry.linkpath, 100) ? entry.linkpath : truncate(asciiOnly(entry.linkpath)),
      devmaj: entry.devmajor ?? 0,
      devmin: entry.devminor ?? 0,
    }),
  );
  return Buffer.concat(blocks);
}

interface UstarFields {
  path: string;
  type: TarEntryType | 'ExtendedHeader';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkpath?: string | undefined;
  devmaj?: number;
  devmin?: number;
}

function ustar(f: UstarFields): Buffer {
  const block = Buffer.alloc(512);
  // Fields assigned one by one: the constructor's object argument goes through
  // Object.entries/filter/fromEntries/assign, most of the cost of a header.
  const h = new Header();
  h.path = f.path;
  h.type = f.type;
  h.mode = f.mode;
  h.uid = f.uid;
  h.gid = f.gid;
  h.size = f.size;
  h.mtime = new Date(f.mtime * 1000);
  h.linkpath = f.linkpath ?? '';
  h.uname = '';
  h.gname = '';
  h.devmaj = f.devmaj ?? 0;
  h.devmin = f.devmin ?? 0;
  h.encode(block);
  return block;
}

function asciiOnly(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '_');
}

function truncate(s: string): string {
  return s.length < 100 ? s : s.slice(0, 99);
}

/** `body` padded with zeros to a multiple of 512. */
export function pad(body: Buffer): Buffer {
  const rem = body.length % 512;
  return rem === 0 ? body : Buffer.concat([body, Buffer.alloc(512 - rem)]);
}

export const END_OF_ARCHIVE = Buffer.alloc(1024);

/** Linux dev_t split (glibc's gnu_dev_major/minor). */
export function splitRdev(rdev: number): { devmajor: number; devminor: number } {
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev >>> 0;
  return {
    devmajor: ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0),
    devminor: (lo & 0xff) | ((lo >>> 12) & 0xfff00),
  };
}
