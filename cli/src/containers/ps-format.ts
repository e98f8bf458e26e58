/** docker ps's columns, as pure functions of a record and the time. */
import { timeAgo } from '../table.js';
import { effectiveStatus, type ContainerRecord } from './records.js';

/** `Up 3 minutes`, `Exited (3) 2 minutes ago`, `Created`, `Dead`. */
export function statusText(r: ContainerRecord, now = Date.now()): string {
  switch (effectiveStatus(r)) {
    case 'running':
      return `Up ${timeAgo(r.created, now).replace(/ ago$/, '')}`;
    case 'exited':
      return `Exited (${r.exitCode ?? 0}) ${timeAgo(r.finishedAt ?? r.created, now)}`;
    case 'dead':
      return 'Dead';
    default:
      return 'Created';
  }
}

/** The COMMAND column: the argv quoted like docker, cut to 20 characters with an ellipsis. */
export function commandText(argv: string[], width = 20): string {
  const text = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
  const cut = text.length > width ? `${text.slice(0, width - 1)}…` : text;
  return `"${cut}"`;
}

export function shortContainerId(id: string): string {
  return id.slice(0, 12);
}
