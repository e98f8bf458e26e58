// Loads a CommonJS bundle of scripts/bundle-cli.mjs the way require() would,
// but through vm.Script with V8's code cache: compiling the ~1 MB bundle is
// ~20 ms of every command's start, and with the cache much less. The cache is
// a file next to the bundle named by the sha256 on the bundle's last line (V8
// itself only checks the source's length) and by the command: it is written at
// exit, when the functions the command ran are compiled too, so each command
// has its own. Written when missing or rejected (another Node or V8 flags),
// atomically, and best effort: an unwritable directory only costs the compile.
'use strict';
const { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { dirname } = require('node:path');
const Module = require('node:module');
const vm = require('node:vm');

/**
 * Runs the bundle at `file` and returns its exports. `variant` names the code
 * cache (the command about to run); `{ cache: false }` is plain require() (for
 * --debug: source maps).
 */
function loadBundle(file, { cache = true, variant = 'main' } = {}) {
  if (!cache) return require(file);
  const source = readFileSync(file, 'utf8');
  const mark = '// tsbuild-bundle sha256:';
  const at = source.lastIndexOf(mark);
  const hash = at < 0 ? '' : source.slice(at + mark.length, at + mark.length + 64);
  if (!/^[0-9a-f]{64}$/.test(hash)) return require(file);
  const cacheFile = `${file}.${hash.slice(0, 16)}.${/^[a-z-]{1,20}$/.test(variant) ? variant : 'other'}.v8-cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // first run of this bundle
  }
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData, importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER });
  const module = new Module(file, null);
  module.filename = file;
  module.paths = Module._nodeModulePaths(dirname(file));
  module.loaded = true;
  script.runInThisContext().call(module.exports, module.exports, Module.createRequire(file), module, file, dirname(file));
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', () => writeCache(cacheFile, () => script.createCachedData()));
  }
  return module.exports;
}

function writeCache(path, make) {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, make());
    renameSync(tmp, path);
  } catch {
    rmSync(tmp, { force: true });
  }
}

module.exports = { loadBundle };
