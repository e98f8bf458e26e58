/**
 * `tsbuild login [-u USER] (-p PASS | --password-stdin) [SERVER]` and
 * `tsbuild logout [SERVER]`: docker's commands, writing where docker writes
 * ($DOCKER_CONFIG/config.json or ~/.docker/config.json, or the credential
 * helper it names). There is no interactive prompt: the password comes from
 * --password-stdin (or -p, with docker's warning).
 */
import { eraseCredentials, loginServer, storeCredentials, verifyLogin } from '@tsbuild/registry-client';
import { flag, str, type Command } from '../command.js';
import { REGISTRY_HELP, REGISTRY_OPTIONS, registryClientOptions } from '../registry-flags.js';
import { UsageError } from '../usage-error.js';

export const loginCommand: Command = {
  name: 'login',
  summary: 'Log in to a registry (stores the credentials as docker does)',
  usage: '[OPTIONS] [SERVER]',
  help: [
    ['-u, --username USER', 'the user name'],
    ['-p, --password PASS', 'the password (visible to other users of the machine; prefer --password-stdin)'],
    ['--password-stdin', 'read the password from stdin'],
    ...REGISTRY_HELP,
  ],
  options: {
    username: { type: 'string', short: 'u' },
    password: { type: 'string', short: 'p' },
    'password-stdin': { type: 'boolean' },
    ...REGISTRY_OPTIONS,
  },
  async run(ctx, args) {
    if (args.positionals.length > 1) throw new UsageError('at most one SERVER');
    const registry = loginServer(args.positionals[0]);
    const username = str(args, 'username');
    let password = str(args, 'password');
    if (flag(args, 'password-stdin')) {
      if (password !== undefined) throw new UsageError('--password and --password-stdin are mutually exclusive');
      if (username === undefined) throw new UsageError('--password-stdin needs --username');
      password = (await readAll(ctx.stdin)).replace(/\r?\n$/, '');
    } else if (password !== undefined) {
      ctx.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    }
    if (username === undefined || password === undefined) throw new UsageError('--username and a password (--password-stdin or -p) are required: there is no interactive prompt');
    const { credentials: _fromConfig, ...client } = await registryClientOptions(args, ctx.env);
    await verifyLogin(registry, { username, password }, { ...client, signal: ctx.signal });
    const where = await storeCredentials(registry, { username, password }, { env: ctx.env });
    ctx.stderr.write(`credentials stored in ${where}\n`);
    ctx.stdout.write('Login Succeeded\n');
    return 0;
  },
};

export const logoutCommand: Command = {
  name: 'logout',
  summary: 'Log out from a registry (removes its stored credentials)',
  usage: '[SERVER]',
  options: {},
  async run(ctx, args) {
    if (args.positionals.length > 1) throw new UsageError('at most one SERVER');
    const registry = loginServer(args.positionals[0]);
    if (await eraseCredentials(registry, { env: ctx.env })) ctx.stdout.write(`Removing login credentials for ${registry}\n`);
    else ctx.stdout.write(`Not logged in to ${registry}\n`);
    return 0;
  },
};


async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks).toString('utf8');
}
