/**
 * A synthetic build for the progress, trace and report tests: three steps,
 * two of them running in parallel, one cache hit, one explained miss,
 * interleaved output, a warning and an export — every event kind.
 */
import type { BuildEvent } from '@tsbuild/builder';
import { rangeOf } from '@tsbuild/core';

export const T0 = 1_700_000_000_000;
export const FROM = 'sha256:' + 'a'.repeat(64);
export const NUMBERS = 'sha256:' + 'b'.repeat(64);
export const WORDS = 'sha256:' + 'c'.repeat(64);
export const FINAL = 'sha256:' + 'd'.repeat(64);
export const DIGEST = 'sha256:' + 'e'.repeat(64);

const at = (ms: number) => T0 + ms;

export function successfulBuild(): BuildEvent[] {
  return [
    { type: 'build.plan', time: at(0), vertices: [
      { id: FROM, name: '[numbers 1/2] FROM docker.io/library/busybox:latest', inputs: [] },
      { id: NUMBERS, name: '[numbers 2/2] RUN seq 1 3', stage: 'numbers', inputs: [FROM] },
      { id: WORDS, name: '[words 2/2] RUN printf "alpha"', stage: 'words', inputs: [FROM] },
      { id: FINAL, name: '[stage-2 2/2] COPY --from=numbers /numbers /data/', inputs: [FROM, NUMBERS] },
    ] },
    { type: 'vertex.cached', time: at(10), id: FROM, name: '[numbers 1/2] FROM docker.io/library/busybox:latest' },
    { type: 'vertex.explain', time: at(20), id: NUMBERS, name: '[numbers 2/2] RUN seq 1 3', reasons: [{ kind: 'definition', field: 'args', old: 'seq 1 2', new: 'seq 1 3' }], text: ['instruction changed: "seq 1 2" → "seq 1 3"'] },
    { type: 'vertex.started', time: at(20), id: NUMBERS, name: '[numbers 2/2] RUN seq 1 3' },
    { type: 'vertex.started', time: at(30), id: WORDS, name: '[words 2/2] RUN printf "alpha"' },
    { type: 'vertex.log', time: at(143), id: NUMBERS, name: '[numbers 2/2] RUN seq 1 3', stream: 'stdout', data: '1\n2\n' },
    { type: 'vertex.log', time: at(150), id: WORDS, name: '[words 2/2] RUN printf "alpha"', stream: 'stdout', data: 'alp' },
    { type: 'vertex.log', time: at(220), id: NUMBERS, name: '[numbers 2/2] RUN seq 1 3', stream: 'stdout', data: '3\n' },
    { type: 'vertex.completed', time: at(320), id: NUMBERS, name: '[numbers 2/2] RUN seq 1 3', durationMs: 300 },
    { type: 'vertex.log', time: at(400), id: WORDS, name: '[words 2/2] RUN printf "alpha"', stream: 'stdout', data: 'ha' },
    { type: 'vertex.completed', time: at(430), id: WORDS, name: '[words 2/2] RUN printf "alpha"', durationMs: 400 },
    { type: 'vertex.explain', time: at(440), id: FINAL, name: '[stage-2 2/2] COPY --from=numbers /numbers /data/', reasons: [{ kind: 'input', index: 1, name: 'numbers', change: 'changed' }], text: ['input "[numbers 2/2] RUN seq 1 3" changed'] },
    { type: 'vertex.started', time: at(440), id: FINAL, name: '[stage-2 2/2] COPY --from=numbers /numbers /data/' },
    { type: 'vertex.completed', time: at(490), id: FINAL, name: '[stage-2 2/2] COPY --from=numbers /numbers /data/', durationMs: 50 },
    { type: 'warning', time: at(495), warning: { rule: 'JSONArgsRecommended', message: 'JSON arguments recommended for CMD', file: 'Dockerfile', range: rangeOf(9, 0, 9, 12), url: 'https://docs.docker.com/go/dockerfile/rule/json-args-recommended/' } },
    { type: 'export.started', time: at(500), id: 'layers', name: 'exporting layers' },
    { type: 'export.completed', time: at(700), id: 'layers', name: 'exporting layers', durationMs: 200 },
    { type: 'build.completed', time: at(720), durationMs: 720, digest: DIGEST, tags: ['docker.io/library/hello:latest'] },
  ];
}

export function failedBuild(): BuildEvent[] {
  return [
    { type: 'build.plan', time: at(0), vertices: [{ id: FROM, name: '[1/2] FROM busybox', inputs: [] }, { id: NUMBERS, name: '[2/2] RUN false', inputs: [FROM] }] },
    { type: 'vertex.cached', time: at(5), id: FROM, name: '[1/2] FROM busybox' },
    { type: 'vertex.started', time: at(10), id: NUMBERS, name: '[2/2] RUN false' },
    { type: 'vertex.log', time: at(60), id: NUMBERS, name: '[2/2] RUN false', stream: 'stderr', data: 'about to fail' },
    { type: 'vertex.failed', time: at(110), id: NUMBERS, name: '[2/2] RUN false', durationMs: 100, message: 'process "/bin/sh -c false" did not complete successfully: exit code: 1' },
    { type: 'build.failed', time: at(120), durationMs: 120, message: 'process "/bin/sh -c false" did not complete successfully: exit code: 1' },
  ];
}
