#!/bin/sh
':' /*
# The lines up to the end of this comment are sh: the file is a shell script
# that execs node on itself. Node reads NODE_EXTRA_CA_CERTS into its TLS root
# store at every start, ~30 ms with a full CA bundle, though most commands never
# open a TLS connection; handed over as TSBUILD_EXTRA_CA_CERTS, it is loaded by
# the one part that may (builder/src/worker/https-ca.ts) when it does.
if [ -n "$NODE_EXTRA_CA_CERTS" ]; then
  TSBUILD_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS; export TSBUILD_EXTRA_CA_CERTS; unset NODE_EXTRA_CA_CERTS
fi
# With CAP_SYS_ADMIN (bit 21 of CapEff), node runs in a private mount namespace
# of its own: every mount the build makes (overlays, bind mounts) is torn down
# by the kernel when the process dies, however it dies (docs/ARCHITECTURE.md,
# "Nothing left behind"). Node cannot unshare(CLONE_NEWNS) itself: its threads
# share one fs_struct (EINVAL). Fd 9 keeps the namespace it came from, for the
# few things that must happen there (runtime/src/namespace.ts). Builtins only,
# so the check costs no fork; unshare costs one exec (~1 ms).
if [ -z "$TSBUILD_HOST_MNTNS" ] && [ "$TSBUILD_MOUNT_NS" != 0 ] && command -v unshare >/dev/null 2>&1; then
  while read -r key value _; do [ "$key" = CapEff: ] && break; done </proc/self/status
  if [ "$key" = CapEff: ] && [ $(( (0x$value >> 21) & 1 )) = 1 ]; then
    exec 9</proc/self/ns/mnt
    TSBUILD_HOST_MNTNS=9; export TSBUILD_HOST_MNTNS
    exec unshare --mount --propagation private node "$0" -- "$@"
  fi
fi
# "--": Node 20 reads an `--env-file F` anywhere in its argv, even after the
# script's name, as its own option (before any JS runs): `tsbuild run --env-file F`
# would load F into tsbuild's environment, and block forever on a FIFO.
exec node "$0" -- "$@"
*/
// The tsbuild binary: a thin shim over the compiled CLI. It runs the esbuild
// bundle (scripts/bundle-cli.mjs; far quicker to start, and through V8's code
// cache: bundle-loader.cjs) when it is newer than every package's last `tsc -b`,
// else tsc's output (npm run build / scripts/setup.sh).
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// The shell prologue passes `--` first (see above); `node tsbuild.js …` does not.
const args = process.argv[2] === '--' ? process.argv.slice(3) : process.argv.slice(2);
// Stack traces (--debug) point into the TypeScript sources, not the bundle.
const debug = args.includes('--debug') || args.includes('-D');
if (debug) process.setSourceMapsEnabled(true);
// The command names the code cache: each command's hot functions are in its own.
const command = args.find((a, i) => !a.startsWith('-') && args[i - 1] !== '--root');
const { runCli } = bundleIsFresh()
  ? createRequire(import.meta.url)('./bundle-loader.cjs').loadBundle(fileURLToPath(new URL('../dist/bundle/tsbuild.js', import.meta.url)), { cache: !debug, variant: command })
  : await import('../dist/main.js');

// runCli sets the exit code; it turns a crash or an unsettled await into one clear line.
await runCli(args);

function bundleIsFresh() {
  const mtime = (rel) => statSync(new URL(rel, import.meta.url), { throwIfNoEntry: false })?.mtimeMs;
  const bundle = mtime('../dist/bundle/tsbuild.js');
  if (bundle === undefined) return false;
  const packages = ['core', 'store', 'runtime', 'registry-client', 'builder', 'server', 'cli'];
  return packages.every((p) => (mtime(`../../${p}/dist/.tsbuildinfo`) ?? 0) <= bundle);
}
