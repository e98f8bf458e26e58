#!/usr/bin/env node
// Bundles the compiled CLI (cli/dist/main.js, after `tsc -b`) with esbuild into
// cli/dist/bundle/: start-up is most of a no-op command's time, and loading a
// few large files costs far less than resolving ~400 small ones. cli/bin/tsbuild.js
// uses the bundle when it is newer than every package's tsc output.
//
// - Code splitting keeps the command table's `import()`s lazy: each command is
//   its own chunk, so `tsbuild images` never loads the builder.
// - Native addons (zstd-napi, fs-xattr) stay external, loaded from node_modules.
// - The compression worker is a second entry point, emitted next to the chunks:
//   store's compress-pool starts it as `new URL('./compress-worker.js', import.meta.url)`,
//   and every output file lives in the one directory, whichever chunk holds the pool.
//   The context watcher's daemon is a third (builder's context/watch/client.ts spawns
//   `new URL('./context-watch-daemon.js', import.meta.url)` the same way).
// - CommonJS dependencies (tar, dockerfile-ast, …) call require() for Node's
//   builtins; the banner gives each ESM chunk a real `require`.
// - Source maps (linked) keep `--debug` stack traces readable: the bin shim turns
//   source maps on for --debug, and they lead back through tsc's maps to the .ts.
// - Rebundling while tsbuild runs is safe: every file is written under a temporary
//   name and renamed, chunks before the entry points, and chunk names carry a
//   content hash, so a running process finds the chunks it was built with. Files
//   of older bundles are removed after an hour.
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(repo, 'cli/dist/bundle');
const ENTRY_POINTS = ['tsbuild.js', 'compress-worker.js', 'context-watch-daemon.js'];

const result = await build({
  absWorkingDir: repo,
  entryPoints: {
    tsbuild: 'cli/dist/main.js',
    'compress-worker': 'store/dist/layer/compress-worker.js',
    'context-watch-daemon': 'builder/dist/context/watch/context-watch-daemon.js',
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['zstd-napi', 'fs-xattr'],
  sourcemap: 'linked',
  banner: { js: "import { createRequire as __tsbuildCreateRequire } from 'node:module'; const require = __tsbuildCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
  write: false,
});
mkdirSync(outdir, { recursive: true });
const isEntry = (f) => ENTRY_POINTS.includes(basename(f)) || ENTRY_POINTS.includes(basename(f, '.map'));
const files = [...result.outputFiles].sort((a, b) => Number(isEntry(a.path)) - Number(isEntry(b.path)));
for (const f of files) {
  const tmp = `${f.path}.${process.pid}.tmp`;
  writeFileSync(tmp, f.contents);
  renameSync(tmp, f.path);
}
const current = new Set(files.map((f) => basename(f.path)));
for (const name of readdirSync(outdir)) {
  const path = join(outdir, name);
  if (!current.has(name) && Date.now() - statSync(path).mtimeMs > 3600_000) rmSync(path, { force: true });
}
const js = files.filter((f) => f.path.endsWith('.js'));
const bytes = js.reduce((n, f) => n + f.contents.length, 0);
console.log(`tsbuild bundle: ${js.length} files, ${(bytes / 1024).toFixed(0)} KiB in ${outdir.slice(repo.length + 1)}`);
