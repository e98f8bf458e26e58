/**
 * A private dockerd (Debian's docker.io) for interop tests: its own data root,
 * exec root and socket in a temp dir, no iptables, no bridge — so it touches
 * nothing of the host's networking and leaves nothing behind.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
export const DOCKER = '/usr/bin/docker';

export interface Dockerd {
  host: string;
  /** Runs the docker CLI against this daemon. */
  docker(args: string[], options?: { input?: string }): Promise<{ stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

export async function startDockerd(dir: string): Promise<Dockerd> {
  if (!existsSync('/usr/sbin/dockerd')) throw new Error('dockerd is missing: run scripts/setup.sh (installs docker.io)');
  mkdirSync(dir, { recursive: true });
  const sock = join(dir, 'docker.sock');
  const host = `unix://${sock}`;
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  const proc: ChildProcess = spawn(
    '/usr/sbin/dockerd',
    ['--iptables=false', '--ip6tables=false', '--bridge=none', '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'),
      '--pidfile', join(dir, 'dockerd.pid'), '--host', host],
    { stdio: ['ignore', log, log] },
  );
  const docker: Dockerd['docker'] = async (args) => {
    const r = await execFileP(DOCKER, ['-H', host, ...args], { maxBuffer: 64 << 20 });
    return { stdout: r.stdout, stderr: r.stderr };
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await docker(['version']);
      break;
    } catch (err) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`dockerd did not start: ${readFileSync(join(dir, 'dockerd.log'), 'utf8').slice(-2000)}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  return {
    host,
    docker,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => { proc.kill('SIGKILL'); resolve(); }, 15_000);
        proc.once('exit', () => { clearTimeout(t); resolve(); });
      });
      await execFileP('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l`]).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
