#!/usr/bin/env node
// Bundles the compiled CLI (cli/dist/main.js, after `tsc -b`) with esbuild into
// cli/dist/bundle/: start-up is most of a no-op command's time, and loading a
// few files costs far less than resolving ~400 small ones. cli/bin/tsbuild.js
// uses the bundle when it is newer than every package's tsc output.
//
// - CommonJS, one file per entry point, because Node 20 can reuse V8's compiled
//   code only for scripts (vm.Script cachedData; ESM has no such door before
//   Node 22's module.enableCompileCache): cli/bin/bundle-loader.cjs keeps a code
//   cache next to the bundle, which saves ~30 ms of every command's start.
//   Commands are still evaluated lazily: the command table's import()s become
//   esbuild's lazy module initializers, so `tsbuild images` never runs the builder.
// - The bundle's last line names the sha256 of what precedes it: V8's own check
//   of a code cache only compares source lengths, so the cache file is named by it
//   (the last line, so that the source map's line numbers still hold).
// - Native addons (zstd-napi, fs-xattr) stay external, loaded from node_modules,
//   and so does undici (loaded only for a download that needs deferred CA certs).
// - The compression worker and the context watcher's daemon are entry points
//   of their own, emitted next to the CLI: store's compress-pool starts
//   `new URL('./compress-worker.js', import.meta.url)`, builder's context/watch
//   spawns `./context-watch-daemon.js`; `import.meta.url` is the bundle file's URL.
//   A package.json saying "commonjs" makes these .js files scripts, not modules.
// - Source maps (linked) keep `--debug` stack traces readable: the bin shim turns
//   source maps on for --debug, and they lead back through tsc's maps to the .ts.
// - Rebundling while tsbuild runs is safe: every file is written under a
//   temporary name and renamed; a running process has its file read already.
//   Files of older bundles (and their code caches) are removed after an hour.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(repo, 'cli/dist/bundle');

const result = await build({
  absWorkingDir: repo,
  entryPoints: {
    tsbuild: 'cli/dist/main.js',
    'compress-worker': 'store/dist/layer/compress-worker.js',
    'context-watch-daemon': 'builder/dist/context/watch/context-watch-daemon.js',
  },
  outdir,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['zstd-napi', 'fs-xattr', 'undici'],
  define: { 'import.meta.url': '__tsbuild_import_meta_url' },
  banner: { js: "const __tsbuild_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  write: false,
});
mkdirSync(outdir, { recursive: true });
const files = result.outputFiles.map((f) => {
  if (!f.path.endsWith('.js')) return { path: f.path, contents: f.contents };
  const hash = createHash('sha256').update(f.contents).digest('hex');
  return { path: f.path, contents: Buffer.concat([f.contents, Buffer.from(`\n// tsbuild-bundle sha256:${hash}\n`)]) };
});
files.push({ path: join(outdir, 'package.json'), contents: Buffer.from('{"type":"commonjs"}\n') });
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
