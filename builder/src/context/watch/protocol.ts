/** What the context watcher (context-watch-daemon.ts) and its client (client.ts) share. */

/** statfs f_type values of filesystems whose inotify events are complete for local changes: ext2/3/4, xfs, btrfs, tmpfs. */
export const RELIABLE_FS_TYPES: ReadonlySet<number> = new Set([0xef53, 0x58465342, 0x9123683e, 0x01021994]);

/** The daemon's answer to a query (one JSON line). */
export interface WatchAnswer {
  /** This daemon's id (random per start). */
  id: string;
  /** false: still setting up its watches (ask again soon). */
  ready: boolean;
  /** The generation (only when ready). */
  gen?: number;
  /** The daemon cannot vouch for this context now: walk. */
  unknown?: boolean;
  /** With unknown: the daemon itself is going (the client starts another for the next build). */
  exiting?: boolean;
}
