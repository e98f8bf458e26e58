/**
 * The package borders of ../shared/DESIGN.md, enforced: a package imports
 * another only through its name (its src/index.ts), only the packages its
 * scope allows, never a relative path into another package, and only one
 * adapter module imports dockerfile-ast.
 */
import { expect } from 'chai';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** scope → the workspace packages it may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  core: [],
  store: ['core'],
  runtime: ['core'],
  'registry-client': ['core'],
  dockerfile: ['core'],
  builder: ['core', 'dockerfile', 'store', 'runtime', 'registry-client'],
  server: ['core', 'dockerfile', 'builder', 'store', 'runtime', 'registry-client'],
  cli: ['core', 'dockerfile', 'store', 'runtime', 'registry-client', 'builder', 'server'],
};
const PACKAGE_OF: Record<string, string> = {
  '@tsbuild/core': 'core',
  '@tsbuild/store': 'store',
  '@tsbuild/runtime': 'runtime',
  '@tsbuild/registry-client': 'registry-client',
  '@tsbuild/dockerfile': 'dockerfile',
  '@tsbuild/builder': 'builder',
  '@tsbuild/server': 'server',
  tsbuild: 'cli',
};

function* tsFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p); // lstat: test fixtures hold dangling symlinks on purpose
    if (st.isDirectory()) yield* tsFiles(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    out.push((m[1] ?? m[2])!);
  }
  return out;
}

describe('package borders', () => {
  for (const [scope, allowed] of Object.entries(ALLOWED)) {
    it(`${scope} imports only ${allowed.length ? allowed.join(', ') : 'nothing of ours'}, through their index`, () => {
      const problems: string[] = [];
      const pkgDir = join(root, scope, 'src');
      for (const file of tsFiles(pkgDir)) {
        for (const spec of importsOf(file)) {
          const where = relative(root, file);
          if (spec.startsWith('.')) {
            const target = resolve(dirname(file), spec);
            if (!target.startsWith(pkgDir)) problems.push(`${where}: relative import leaves the package: ${spec}`);
            continue;
          }
          const base = Object.keys(PACKAGE_OF).find((p) => spec === p || spec.startsWith(`${p}/`));
          if (!base) continue; // a third-party module
          if (spec !== base) problems.push(`${where}: deep import ${spec} (use ${base})`);
          const target = PACKAGE_OF[base]!;
          if (target !== scope && !allowed.includes(target)) problems.push(`${where}: ${scope} may not import ${base}`);
        }
      }
      expect(problems).to.deep.equal([]);
    });
  }

  it('no test, bench or script reaches into another package\'s src/ (only its own package\'s)', () => {
    const problems: string[] = [];
    const dirs = [...Object.keys(ALLOWED).map((scope) => join(root, scope, 'test')), join(root, 'test'), join(root, 'bench'), join(root, 'scripts')];
    for (const dir of dirs) {
      if (!existsSync(dir)) continue; // a package without tests yet
      const files = [...tsFiles(dir)];
      const own = relative(root, dir).split('/')[0]!;
      for (const file of files) {
        for (const spec of importsOf(file)) {
          if (!spec.startsWith('.')) continue;
          const target = relative(root, resolve(dirname(file), spec)).split('/');
          if (target[1] === 'src' && target[0] !== own && target[0]! in ALLOWED) problems.push(`${relative(root, file)}: imports ${spec} (use @tsbuild/${target[0]})`);
        }
      }
    }
    expect(problems).to.deep.equal([]);
  });

  it('only the adapter module imports dockerfile-ast', () => {
    const importers: string[] = [];
    for (const scope of Object.keys(ALLOWED)) {
      for (const file of tsFiles(join(root, scope, 'src'))) {
        if (importsOf(file).includes('dockerfile-ast')) importers.push(relative(root, file));
      }
    }
    expect(importers.length).to.be.at.most(1, `importers: ${importers.join(', ')}`);
    for (const f of importers) expect(f).to.match(/dockerfile-ast-adapter\.ts$/);
  });

  // Shared pieces the store or the runtime needs live in core, once: a second definition is a twin to merge.
  it('Mount, the root-confined resolver and the lock files are defined once, in core', () => {
    const names = ['Mount', 'resolveInRoot', 'resolveInRootSync', 'withLock', 'acquireLock', 'tryLock', 'pidAlive'];
    const where = new Map<string, string[]>(names.map((n) => [n, []]));
    for (const scope of Object.keys(ALLOWED)) {
      for (const file of tsFiles(join(root, scope, 'src'))) {
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(/^export\s+(?:async\s+)?(?:interface|function|class|type|const)\s+(\w+)\b/gm)) {
          where.get(m[1]!)?.push(relative(root, file));
        }
      }
    }
    for (const [name, files] of where) expect(files, name).to.have.length(1).and.satisfy((f: string[]) => f[0]!.startsWith('core/src/'));
  });

  it("the store does not read the build cache's files: it asks the GcRootProviders it is given", () => {
    const readers: string[] = [];
    for (const file of tsFiles(join(root, 'store', 'src'))) {
      if (/['"]records['"]|cache\/records/.test(readFileSync(file, 'utf8'))) readers.push(relative(root, file));
    }
    expect(readers).to.deep.equal([]);
  });
});

/**
 * Borders inside builder (issue 12): the solver is generic (it schedules
 * vertices over opaque ops and knows nothing else of the builder); the
 * definition is data made from the stage graph and knows no worker, file op,
 * context reader, store or runtime; the worker reads the definition's op
 * descriptions, never the conversion that makes them.
 */
describe('builder borders', () => {
  const src = join(root, 'builder', 'src');
  /** Each import of each file under builder/src/<dir>: the specifier, where a relative one lands (builder/src-relative), and whether it is type-only. */
  const importsUnder = (dir: string) =>
    [...tsFiles(join(src, dir))].flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/(?:^|\n)\s*(import|export)(\s+type)?\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => {
        const spec = (m[3] ?? m[4])!;
        const lands = spec.startsWith('.') ? relative(src, resolve(dirname(file), spec)) : undefined;
        return { file: relative(root, file), spec, lands, typeOnly: m[2] !== undefined };
      }),
    );
  const nodeBuiltin = (spec: string) => spec.startsWith('node:');

  it('solver/ imports nothing else of builder; of the rest only core, p-queue, node built-ins (and the store\'s atomic write for FileCacheStorage)', () => {
    const problems = importsUnder('solver')
      .filter(({ file, spec, lands }) => {
        if (lands !== undefined) return !lands.startsWith('solver/');
        if (spec === '@tsbuild/core' || spec === 'p-queue' || nodeBuiltin(spec)) return false;
        return !(spec === '@tsbuild/store' && file.endsWith('solver/file-cache-storage.ts'));
      })
      .map(({ file, spec }) => `${file}: ${spec}`);
    expect(problems).to.deep.equal([]);
  });

  it('definition/ imports no worker, file op, context, exporter or API code, no store and no runtime: only itself, the solver\'s digest, core, dockerfile and node', () => {
    const problems = importsUnder('definition')
      .filter(({ spec, lands }) => {
        if (lands !== undefined) return !lands.startsWith('definition/') && lands !== 'solver/index.js';
        return !(spec === '@tsbuild/core' || spec === '@tsbuild/dockerfile' || nodeBuiltin(spec));
      })
      .map(({ file, spec }) => `${file}: ${spec}`);
    expect(problems).to.deep.equal([]);
  });

  it('worker/ reads only the definition\'s data types (op descriptions), type-only, never its conversion', () => {
    const problems = importsUnder('worker')
      .filter(({ lands, typeOnly }) => lands?.startsWith('definition/') && (!typeOnly || !['definition/ops.js', 'definition/types.js'].includes(lands)))
      .map(({ file, spec }) => `${file}: ${spec}`);
    expect(problems).to.deep.equal([]);
  });
});
