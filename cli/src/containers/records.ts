/**
 * Container records: one JSON file per container, `<root>/containers/<id>/record.json`,
 * written atomically (temp + fsync + rename). This is store-like state kept
 * in the CLI for now; it belongs in @tsbuild/store once a second user (the
 * server) needs it. Creating a record takes `<root>/containers/names.lock` so
 * two processes never give out the same name.
 *
 * A record keeps its writable layer (an active snapshot, `snapshotKey`)
 * alive on its own: prune never removes an uncommitted snapshot or its parents.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, pidAlive, withLock } from '@tsbuild/core';
import { writeFileAtomic } from '@tsbuild/store';

export type ContainerStatus = 'created' | 'running' | 'exited';

export interface ContainerRecord {
  /** 64 hex chars; the first 12 are the short id and the default hostname. */
  id: string;
  name: string;
  /** The image as the user named it. */
  image: string;
  /** The image's config digest (docker's image id). */
  imageId: string;
  /** argv of the container's process. */
  command: string[];
  created: string;
  status: ContainerStatus;
  /** The `tsbuild run` process that owns the running container. */
  pid?: number;
  exitCode?: number;
  finishedAt?: string;
  /** The writable layer: an active snapshot on the image's top chain id. */
  snapshotKey: string;
}

/** What `ps` shows: a "running" record whose owning process is gone is dead. */
export function effectiveStatus(r: ContainerRecord): ContainerStatus | 'dead' {
  if (r.status === 'running' && (r.pid === undefined || !pidAlive(r.pid))) return 'dead';
  return r.status;
}

const ID_RE = /^[a-f0-9]{64}$/;
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export class ContainerRecords {
  readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'containers');
  }

  /** Writes a new record; AlreadyExists when its name is taken. */
  async create(record: ContainerRecord): Promise<void> {
    if (!ID_RE.test(record.id)) throw new InvalidArgumentError(`invalid container id ${record.id}`, { code: 'CONTAINER_BAD_ID' });
    if (!NAME_RE.test(record.name)) {
      throw new InvalidArgumentError(`invalid container name ${JSON.stringify(record.name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`, { code: 'CONTAINER_BAD_NAME' });
    }
    await mkdir(this.dir, { recursive: true });
    await withLock(join(this.dir, 'names.lock'), async () => {
      const taken = (await this.list()).find((r) => r.name === record.name);
      if (taken) throw new AlreadyExistsError(`the container name "${record.name}" is already in use by container ${taken.id.slice(0, 12)}`, { code: 'CONTAINER_NAME_IN_USE' });
      await mkdir(join(this.dir, record.id));
      await this.write(record);
    });
  }

  /** Merges `patch` into the record (one writer per container: its run process, or rm). */
  async update(id: string, patch: Partial<ContainerRecord>): Promise<ContainerRecord> {
    const current = await this.read(id);
    if (!current) throw notFound(id);
    const next = { ...current, ...patch };
    await this.write(next);
    return next;
  }

  /** By exact name, exact id, or unique id prefix (docker's lookup order). */
  async get(ref: string): Promise<ContainerRecord> {
    const all = await this.list();
    const hit = all.find((r) => r.name === ref) ?? all.find((r) => r.id === ref);
    if (hit) return hit;
    const prefixed = /^[a-f0-9]+$/.test(ref) ? all.filter((r) => r.id.startsWith(ref)) : [];
    if (prefixed.length === 1) return prefixed[0]!;
    if (prefixed.length > 1) throw new InvalidArgumentError(`multiple containers match id prefix ${ref}`, { code: 'CONTAINER_AMBIGUOUS' });
    throw notFound(ref);
  }

  /** Every readable record, newest first. */
  async list(): Promise<ContainerRecord[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const records = await Promise.all(names.filter((n) => ID_RE.test(n)).map((n) => this.read(n)));
    return records.filter((r): r is ContainerRecord => r !== undefined).sort((a, b) => b.created.localeCompare(a.created));
  }

  async remove(id: string): Promise<void> {
    if (!ID_RE.test(id)) throw notFound(id);
    await rm(join(this.dir, id), { recursive: true, force: true });
  }

  private async write(record: ContainerRecord): Promise<void> {
    await writeFileAtomic(join(this.dir, record.id, 'record.json'), JSON.stringify(record, null, 2) + '\n');
  }

  private async read(id: string): Promise<ContainerRecord | undefined> {
    const text = await readFile(join(this.dir, id, 'record.json'), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as ContainerRecord;
    } catch {
      return undefined;
    }
  }
}

function notFound(ref: string): NotFoundError {
  return new NotFoundError(`no such container: ${ref}`, { code: 'CONTAINER_NOT_FOUND' });
}
