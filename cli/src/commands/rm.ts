import { flag, type Command } from '../command.js';
import { removeContainer } from '../containers/remove-container.js';
import { ContainerRecords } from '../containers/records.js';
import { storeFor } from '../store-access.js';
import { UsageError } from '../usage-error.js';

/** `tsbuild rm [-f] ID|NAME…`: each one removed or one error line; exit 1 if any failed. */
export const rmCommand: Command = {
  name: 'rm',
  summary: 'Remove containers (their writable layers and records)',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  help: [['-f, --force', 'kill and remove a running container']],
  options: { force: { type: 'boolean', short: 'f' } },
  async run(ctx, args) {
    if (args.positionals.length === 0) throw new UsageError('at least one container is required');
    const store = await storeFor(ctx);
    const records = new ContainerRecords(store.root);
    let failed = false;
    for (const ref of args.positionals) {
      try {
        await removeContainer(store, await records.get(ref), { force: flag(args, 'force'), signal: ctx.signal });
        ctx.stdout.write(`${ref}\n`);
      } catch (err) {
        failed = true;
        ctx.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
    return failed ? 1 : 0;
  },
};
