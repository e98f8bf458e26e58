import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, ownerAlive, pidAlive, selfOwner, withLock } from '@tsbuild/core';
import { writeFileAtomic } from '../content/atomic-file.js';
import type { Lease, LeaseManager, LeaseResource } from '../types.js';

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Leases as one JSON file each, `<root>/leases/<id>.json`, written atomically;
 * adding a resource is a read-modify-write under `<id>.lock`. The creating
 * process's pid is recorded so that a crashed build's lease stops protecting
 * anything once that process is gone (see `isLeaseLive`) — which is also why
 * lease files are written atomically but not flushed (`durable: false`):
 * after a machine crash every lease's process is gone.
 */
export class FileLeaseManager implements LeaseManager {
  readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'leases');
  }

  async create(options: { id?: string; ttlMs?: number } = {}): Promise<Lease> {
    const id = options.id ?? randomUUID();
    if (!ID_RE.test(id)) throw new InvalidArgumentError(`invalid lease id ${JSON.stringify(id)}`, { code: 'STORE_LEASE_INVALID_ID' });
    const now = Date.now();
    const lease: Lease = { id, createdAt: new Date(now).toISOString(), pid: process.pid, pidStart: selfOwner().start, resources: [] };
    if (options.ttlMs !== undefined) lease.expiresAt = new Date(now + options.ttlMs).toISOString();
    await mkdir(this.dir, { recursive: true });
    await withLock(this.lockPath(id), async () => {
      if (await this.read(id)) throw new AlreadyExistsError(`lease ${id} already exists`, { code: 'STORE_LEASE_EXISTS' });
      await writeFileAtomic(this.path(id), JSON.stringify(lease), { durable: false });
    });
    return lease;
  }

  addResource(leaseId: string, resource: LeaseResource): Promise<void> {
    return this.addResources(leaseId, [resource]);
  }

  async addResources(leaseId: string, resources: readonly LeaseResource[]): Promise<void> {
    await withLock(this.lockPath(leaseId), async () => {
      const lease = await this.read(leaseId);
      if (!lease) throw notFound(leaseId);
      const added = resources.filter((resource, i) =>
        !lease.resources.some((r) => sameResource(r, resource)) && resources.findIndex((o) => sameResource(o, resource)) === i);
      if (added.length === 0) return;
      lease.resources.push(...added);
      await writeFileAtomic(this.path(leaseId), JSON.stringify(lease), { durable: false });
    });
  }

  async delete(leaseId: string): Promise<void> {
    if (!ID_RE.test(leaseId)) throw notFound(leaseId);
    try {
      await unlink(this.path(leaseId));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(leaseId);
      throw err;
    }
  }

  /** All leases on disk, live or not; filter with `isLeaseLive`. */
  async list(): Promise<Lease[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const leases = await Promise.all(names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => this.read(n.slice(0, -5))));
    return leases.filter((l): l is Lease => l !== undefined);
  }

  private path(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  private lockPath(id: string): string {
    if (!ID_RE.test(id)) throw notFound(id);
    return join(this.dir, `${id}.lock`);
  }

  private async read(id: string): Promise<Lease | undefined> {
    let text: string;
    try {
      text = readFileSync(this.path(id), 'utf8'); // small, in the page cache: cheaper than a thread-pool round trip
    } catch {
      return undefined;
    }
    try {
      return JSON.parse(text) as Lease;
    } catch {
      return undefined; // unreadable lease protects nothing; fsck/prune may remove it
    }
  }
}

/**
 * A lease protects its resources until deleted, until `expiresAt`, and only
 * while its creating process (if recorded) is alive: the same pid with the
 * same start time, when that was recorded (a pid can be reused).
 */
export function isLeaseLive(lease: Lease, now = Date.now()): boolean {
  if (lease.expiresAt !== undefined && Date.parse(lease.expiresAt) <= now) return false;
  return leaseOwnerAlive(lease);
}

/** Whether the process that created `lease` still runs (true when none is recorded). */
export function leaseOwnerAlive(lease: Lease): boolean {
  if (lease.pid === undefined) return true;
  return lease.pidStart !== undefined ? ownerAlive({ pid: lease.pid, start: lease.pidStart }) : pidAlive(lease.pid);
}

function sameResource(a: LeaseResource, b: LeaseResource): boolean {
  return a.type === b.type && (a.type === 'content' ? a.digest === (b as typeof a).digest : a.key === (b as { key: string }).key);
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`lease ${id} not found`, { code: 'STORE_LEASE_NOT_FOUND' });
}
