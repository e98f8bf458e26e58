/**
 * RUN [--mount=…]… [--network=…] [--security=…] <command> (BuildKit
 * `parseRun`, `runmount.go`, `runnetwork.go`, `runsecurity.go`). Heredoc bodies
 * become `files`; the first one is also the script when the command is `<<EOF`.
 */
import { chompHeredocContent } from '../parser/index.js';
import { commandForm } from './command-form.js';
import type { ParseContext } from './context.js';
import { InstructionErrorCode } from './errors.js';
import { parseMountSpec } from './mount.js';
import type { InlineFile, NetworkMode, RunInstruction, RunMount, SecurityMode } from './types.js';

const networks = new Set<NetworkMode>(['default', 'none', 'host']);
const securities = new Set<SecurityMode>(['sandbox', 'insecure']);

export function parseRun(ctx: ParseContext): RunInstruction {
  const flags = ctx.flags({ mount: 'strings', network: 'string', security: 'string' });
  if (ctx.args.length === 0) ctx.fail(InstructionErrorCode.ArgumentCount, 'RUN requires at least one argument');
  const mounts: RunMount[] = flags.strings('mount').map((f) => {
    const raw = f.value ?? '';
    const mount: RunMount = { raw, range: f.range };
    if (!raw.includes('$')) {
      try {
        mount.spec = parseMountSpec(raw);
      } catch (err) {
        ctx.fail(InstructionErrorCode.InvalidMount, (err as Error).message, f.range);
      }
    }
    return mount;
  });
  const out: RunInstruction = {
    ...ctx.base('RUN', flags),
    command: commandForm(ctx.args, ctx.json),
    mounts,
    files: inlineFiles(ctx),
  };
  const network = flags.string('network');
  if (network !== undefined) {
    if (!networks.has(network as NetworkMode)) {
      ctx.fail(InstructionErrorCode.BadFlagValue, `unsupported network mode ${JSON.stringify(network)}`, flags.range('network'));
    }
    out.network = network as NetworkMode;
  }
  const security = flags.string('security');
  if (security !== undefined) {
    if (!securities.has(security as SecurityMode)) {
      ctx.fail(InstructionErrorCode.BadFlagValue, `unsupported security mode ${JSON.stringify(security)}`, flags.range('security'));
    }
    out.security = security as SecurityMode;
  }
  return out;
}

/** The node's heredocs as inline files (chomped when `<<-`). */
export function inlineFiles(ctx: ParseContext): InlineFile[] {
  return ctx.node.heredocs.map((h) => ({
    name: h.name,
    data: h.chomp ? chompHeredocContent(h.content) : h.content,
    expand: h.expand,
    chomp: h.chomp,
    fileDescriptor: h.fileDescriptor,
  }));
}
