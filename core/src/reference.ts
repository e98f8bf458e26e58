import { InvalidArgumentError } from './errors.js';
import { isDigest, type Digest } from './digest.js';

/**
 * A parsed image reference: `[registry/]repository[:tag][@digest]`, normalized
 * the way docker does (`busybox` → `docker.io/library/busybox:latest`).
 */
export interface ImageReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: Digest;
}

export const DEFAULT_REGISTRY = 'docker.io';

const NAME_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

export function parseReference(input: string): ImageReference {
  const bad = (why: string) =>
    new InvalidArgumentError(`invalid reference ${JSON.stringify(input)}: ${why}`, { code: 'INVALID_REFERENCE' });
  let rest = input.trim();
  if (!rest) throw bad('empty');
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw bad('bad digest');
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad('bad tag');
  }
  let registry = DEFAULT_REGISTRY;
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  if (registry === 'index.docker.io') registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && !rest.includes('/')) rest = `library/${rest}`;
  if (!rest.split('/').every((c) => NAME_COMPONENT.test(c))) throw bad('repository must be lowercase letters, digits and separators');
  if (!tag && !digest) tag = 'latest';
  const ref: ImageReference = { registry, repository: rest };
  if (tag) ref.tag = tag;
  if (digest) ref.digest = digest;
  return ref;
}

/** The full normalized form: `docker.io/library/busybox:latest`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** The short familiar form docker prints: `busybox:latest`, `localhost:5000/app:1`. */
export function familiarReference(ref: ImageReference): string {
  let name = ref.registry === DEFAULT_REGISTRY ? ref.repository.replace(/^library\//, '') : `${ref.registry}/${ref.repository}`;
  if (ref.registry === DEFAULT_REGISTRY && !ref.repository.startsWith('library/')) name = ref.repository;
  return `${name}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** Normalizes any accepted spelling to the familiar form, the key tags are stored under. */
export function normalizeReference(input: string): string {
  return familiarReference(parseReference(input));
}
