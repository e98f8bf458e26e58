/**
 * RUN step → Exec spec. The process: the frontend's argv (shell form through
 * the stage's SHELL, heredocs as BuildKit runs them), exec form as written. The environment: the
 * variables an ENV set last, then each ARG in scope whose name those lack — so a
 * name an ARG with a value set after an ENV of that name gets the ARG's value, as
 * in BuildKit's dispatchArg (the frontend's `snapshot`, stages/build-state.ts,
 * leaves such a name out of `env`); with ssh mounts, SSH_AUTH_SOCK = the first
 * one's target unless ENV or an ARG sets it — also when no agent is forwarded and
 * the optional mount is left out, as BuildKit's client/llb/exec.go (ExecOp.Marshal)
 * sets it when it builds the op. `--network=default` takes the build's default; `--security=
 * insecure` needs the `security.insecure` entitlement (allowInsecure), and `--network=host` the
 * `network.host` one where it is withheld (allowNetworkHost false: a build server's client that did not --allow it).
 */
import { posix } from 'node:path';
import { DockerfileError } from '@tsbuild/core';
import type { Step, StepSource } from '@tsbuild/dockerfile';
import type { ExecMountSpec, ExecSpec } from './ops.js';

export interface RunStepExec {
  spec: Omit<ExecSpec, 'hasParent' | 'platform'>;
  /** Sources of `--mount from=`, in the order their results are inputs (after the parent). */
  sources: StepSource[];
}

export function runStepToExec(step: Step, file: string, options: {
  network: 'host' | 'none'; allowInsecure: boolean; allowNetworkHost?: boolean; extraHosts?: ReadonlyArray<{ host: string; ip: string }>;
  shmSize?: number; ulimits?: ReadonlyArray<{ name: string; soft: number; hard: number }>; cgroupParent?: string;
}): RunStepExec {
  if (step.expanded.kind !== 'RUN') throw new Error('runStepToExec: not a RUN step');
  const { argv: args, mounts, network, security } = step.expanded;
  const { state } = step;
  if (security === 'insecure' && !options.allowInsecure) {
    throw new DockerfileError('granting entitlement security.insecure is not allowed by build daemon configuration', file, step.range, {
      code: 'BUILD_ENTITLEMENT_DENIED',
    });
  }
  // BuildKit's entitlements.Set.Check (util/entitlements/entitlements.go): a step using an entitlement the build was not granted.
  if (network === 'host' && options.allowNetworkHost === false) {
    throw new DockerfileError('network.host is not allowed', file, step.range, { code: 'BUILD_ENTITLEMENT_DENIED' });
  }
  const sources: StepSource[] = [];
  let sshMounts = 0;
  let sshAuthSock: string | undefined;
  const specs: ExecMountSpec[] = mounts.map((m) => {
    const target = m.target ? posix.resolve(state.workdir, m.target) : '';
    switch (m.type) {
      case 'bind': {
        let from: { input: number } | { context: true } = { context: true };
        if (m.fromSource) {
          sources.push(m.fromSource);
          from = { input: sources.length };
        }
        return { type: 'bind', target, source: m.source ?? '', readonly: m.readOnly, from };
      }
      case 'cache':
        return { type: 'cache', target, id: m.id || target, sharing: m.sharing, readonly: m.readOnly, uid: m.uid, gid: m.gid, mode: m.mode };
      case 'tmpfs':
        return { type: 'tmpfs', target, size: m.sizeBytes };
      case 'secret': {
        // dockerfile2llb/convert_secrets.go, dispatchSecret: the id is source=, else id=, else the target's base name;
        // without env=, the file is at the target, else /run/secrets/<the id's base name>.
        const id = m.source || m.id || posix.basename(target);
        const file = target || (m.env === undefined ? `/run/secrets/${posix.basename(id)}` : undefined);
        return { type: 'secret', id, target: file, env: m.env, required: m.required, uid: m.uid, gid: m.gid, mode: m.mode };
      }
      case 'ssh': {
        // ExecOp.Marshal: an ssh mount without a target gets /run/buildkit/ssh_agent.<its index among the ssh mounts>.
        const sshTarget = target || `/run/buildkit/ssh_agent.${sshMounts}`;
        sshMounts++;
        sshAuthSock ??= sshTarget;
        return { type: 'ssh', id: m.id || 'default', target: sshTarget, required: m.required };
      }
    }
  });
  // --shm-size: BuildKit's dispatchRun adds llb.AddMount("/dev/shm", llb.Scratch(), llb.Tmpfs(llb.TmpfsSize(shmSize))).
  if (options.shmSize) specs.push({ type: 'tmpfs', target: '/dev/shm', size: options.shmSize });
  // A lone `#!` heredoc runs from /dev/pipes/<name> (BuildKit mounts the script there).
  const ins = step.instruction as { files?: Array<{ name: string; data: string }> };
  const script = ins.files?.[0];
  if (script && args.at(-1) === `/dev/pipes/${script.name}`) specs.push({ type: 'inline', target: `/dev/pipes/${script.name}`, data: script.data, mode: 0o755 });
  return {
    spec: {
      args,
      env: sshAuthSock === undefined || [...state.env.map((e) => e.slice(0, e.indexOf('='))), ...state.args.map(([k]) => k)].includes('SSH_AUTH_SOCK')
        ? state.env : [...state.env, `SSH_AUTH_SOCK=${sshAuthSock}`],
      buildArgs: Object.fromEntries(state.args),
      cwd: state.workdir,
      user: state.user,
      network: network === 'none' || network === 'host' ? network : options.network,
      security: security === 'insecure' ? 'insecure' : 'sandbox',
      mounts: specs,
      // Only when given, so a build without --add-host keeps the keys it always had.
      ...(options.extraHosts?.length ? { extraHosts: options.extraHosts.map((h) => ({ host: h.host, ip: h.ip })) } : {}),
      ...(options.ulimits?.length ? { ulimits: options.ulimits.map((u) => ({ name: u.name, soft: u.soft, hard: u.hard })) } : {}),
      ...(options.cgroupParent ? { cgroupParent: options.cgroupParent } : {}),
    },
    sources,
  };
}
