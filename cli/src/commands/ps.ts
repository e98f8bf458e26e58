import { flag, str, type Command } from '../command.js';
import { commandText, shortContainerId, statusText } from '../containers/ps-format.js';
import { ContainerRecords, effectiveStatus } from '../containers/records.js';
import { formatTable, timeAgo } from '../table.js';
import { UsageError } from '../usage-error.js';

/** `tsbuild ps`: docker's container table; only running ones unless -a. */
export const psCommand: Command = {
  name: 'ps',
  summary: 'List containers',
  usage: '[OPTIONS]',
  help: [
    ['-a, --all', 'show all containers (default: only running ones)'],
    ['-q, --quiet', 'only container IDs'],
    ['--format table|json', 'output format'],
  ],
  options: { all: { type: 'boolean', short: 'a' }, quiet: { type: 'boolean', short: 'q' }, format: { type: 'string' } },
  async run(ctx, args) {
    const format = str(args, 'format') ?? 'table';
    if (format !== 'table' && format !== 'json') throw new UsageError(`unknown format ${format} (table or json)`);
    const all = flag(args, 'all');
    const records = (await new ContainerRecords(ctx.root).list()).filter((r) => all || effectiveStatus(r) === 'running');
    if (format === 'json') {
      const rows = records.map((r) => ({ ...r, state: effectiveStatus(r), statusText: statusText(r) }));
      ctx.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    } else if (flag(args, 'quiet')) {
      ctx.stdout.write(records.map((r) => `${shortContainerId(r.id)}\n`).join(''));
    } else {
      const header = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'NAMES'];
      ctx.stdout.write(formatTable(header, records.map((r) => [shortContainerId(r.id), r.image, commandText(r.command), timeAgo(r.created), statusText(r), r.name])));
    }
    return 0;
  },
};
