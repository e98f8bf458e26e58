/**
 * Opening a path the user named (a Dockerfile, a secret's src, an archive to
 * load or import, an env file) without ever blocking (issue 13 point 5):
 * open(2) of a FIFO for reading waits for a writer, forever, and a device may
 * do anything. The path is opened with O_NONBLOCK (which changes nothing for
 * a regular file) and fstat'ed; anything but a regular file is refused with
 * UserPathError naming the path and what it is, before a byte is read.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { InvalidArgumentError } from './errors.js';

/** `what` names the role in the message: `the Dockerfile`, `secret "tok"`, `the archive`. */
export class UserPathError extends InvalidArgumentError {
  constructor(
    what: string,
    readonly path: string,
    /** `a FIFO`, `a character device`, … */
    readonly kind: string,
  ) {
    super(`${what}: ${path} is ${kind}, not a regular file`, { code: 'USER_PATH_NOT_REGULAR' });
    this.name = 'UserPathError';
  }
}

const FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/** A handle on the regular file at `path`; refuses FIFOs, sockets, devices and directories without blocking. */
export async function openUserFile(path: string, what: string): Promise<FileHandle> {
  const handle = await open(path, FLAGS);
  try {
    refuseIrregular(await handle.stat(), path, what);
    return handle;
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** The bytes of the regular file at `path` (openUserFile's checks first). */
export async function readUserFile(path: string, what: string): Promise<Buffer> {
  const handle = await openUserFile(path, what);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** readUserFile for the few synchronous callers (the error snippet reader). */
export function readUserFileSync(path: string, what: string): Buffer {
  const fd = openSync(path, FLAGS);
  try {
    refuseIrregular(fstatSync(fd), path, what);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

function refuseIrregular(st: Stats, path: string, what: string): void {
  if (st.isFile()) return;
  const kind = st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : st.isCharacterDevice() ? 'a character device'
    : st.isBlockDevice() ? 'a block device' : st.isDirectory() ? 'a directory' : 'of an unknown type';
  throw new UserPathError(what, path, kind);
}
