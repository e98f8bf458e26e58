/**
 * Records what BuildKit makes of each differential case (issue 5):
 *
 *   npx tsx --conditions=tsbuild-source scripts/record-buildkit-fixtures.ts [NAME…]
 *
 * Starts a private dockerd (Debian's docker.io 20.10, test/support/dockerd.ts),
 * makes the shared busybox base (tsbuild import → tsbuild save → docker load,
 * so both builders start from the same image ID), builds each case of
 * test/differential/cases/ (all, or the NAMEs given, plus the cases they
 * need) with `DOCKER_BUILDKIT=1 /usr/bin/docker build --network=host` and
 * writes its buildkit.json (test/differential/support.ts says what it holds).
 * Needs root, dockerd and busybox-static (scripts/setup.sh); no Docker Hub.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DOCKER, startDockerd } from '../test/support/dockerd.js';
import { tempDir } from '../test/support/fixtures.js';
import { readSavedImage } from '../test/support/parity.js';
import { caseNames, fixtureOf, fixturePath, formatFixture, inBuildOrder, makeBase, prepareContext, readCase } from '../test/differential/support.js';

const execFileP = promisify(execFile);

async function main(): Promise<void> {
  const all = caseNames();
  const asked = process.argv.slice(2);
  for (const n of asked) if (!all.includes(n)) throw new Error(`no case ${n} in test/differential/cases`);
  const record = new Set(asked.length ? asked : all);
  const order = inBuildOrder([...record]);

  const tmp = tempDir('tsbuild-record-');
  const root = join(tmp.path, 'store');
  const dockerd = await startDockerd(join(tmp.path, 'docker'));
  try {
    const { archive, base } = await makeBase(root, tmp.path);
    await dockerd.docker(['load', '-i', archive]);
    const theirs = (await dockerd.docker(['image', 'inspect', '-f', '{{.Id}}', 'busybox:latest'])).stdout.trim();
    if (base.id !== theirs) throw new Error(`busybox:latest: tsbuild has ${base.id}, dockerd loaded ${theirs}`);

    for (const name of order) {
      const ctx = join(tmp.path, 'ctx', name);
      const flags = prepareContext(name, ctx, join(tmp.path, 'secrets'));
      process.stderr.write(`building ${name} (${readCase(name).title})\n`);
      try {
        await execFileP(DOCKER, ['-H', dockerd.host, 'build', '--network=host', '--progress=plain', '-t', name, ...flags, ctx], {
          env: { ...process.env, DOCKER_BUILDKIT: '1' }, maxBuffer: 64 << 20,
        });
      } catch (err) {
        throw new Error(`BuildKit failed to build ${name}: ${(err as { stderr?: string }).stderr?.slice(-3000)}`);
      }
      if (!record.has(name)) continue;
      const saved = join(tmp.path, `${name}.tar`);
      await dockerd.docker(['save', '-o', saved, name]);
      const image = await readSavedImage(saved, join(tmp.path, 'x', name));
      writeFileSync(fixturePath(name), formatFixture(fixtureOf(image, base)));
      process.stderr.write(`  wrote ${fixturePath(name)}\n`);
    }
  } finally {
    await dockerd.stop();
    tmp.cleanup();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
