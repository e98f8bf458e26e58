/**
 * The command table. Each entry carries what `tsbuild --help` shows and a
 * loader for the command's module, imported only when that command runs: start-up
 * is most of a no-op command's time, and `tsbuild images` has no use for the
 * builder or the Dockerfile frontend. An entry's name, summary and usage must
 * equal its module's (cli/test/command-table.test.ts checks).
 */
import type { Command } from '../command.js';

export interface CommandEntry {
  name: string;
  /** One line for `tsbuild --help`. */
  summary: string;
  /** Usage text after `tsbuild <name>`. */
  usage: string;
  load(): Promise<Command>;
}

/** Every command, in the order `tsbuild --help` lists them. */
export const commands: CommandEntry[] = [
  { name: 'build', summary: 'Build an image from a Dockerfile', usage: '[OPTIONS] CONTEXT|-',
    load: async () => (await import('./build.js')).buildCommand },
  { name: 'serve', summary: 'Run a build server: one store, builds for many clients (tsbuild build --server)', usage: '[--addr unix:///PATH|tcp://HOST:PORT]... [OPTIONS]',
    load: async () => (await import('./serve.js')).serveCommand },
  { name: 'certs', summary: 'Make a CA, a server certificate and client certificates for tsbuild serve', usage: 'create --out DIR [--server-name NAME]... [--client NAME]...',
    load: async () => (await import('./serve.js')).certsCommand },
  { name: 'import', summary: 'Create an image from a root filesystem (directory, tarball or - for stdin)', usage: '[OPTIONS] ROOTFS_DIR|ROOTFS_TAR|- -t REF',
    load: async () => (await import('./import.js')).importCommand },
  { name: 'images', summary: 'List images in the store', usage: '[OPTIONS] [REPOSITORY[:TAG]]',
    load: async () => (await import('./images.js')).imagesCommand },
  { name: 'inspect', summary: 'Show an image: digest, manifest and config as JSON', usage: 'REF [REF...]',
    load: async () => (await import('./inspect.js')).inspectCommand },
  { name: 'tag', summary: 'Give an image another name', usage: 'SOURCE TARGET',
    load: async () => (await import('./tag.js')).tagCommand },
  { name: 'run', summary: 'Run a command in a new container from an image', usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
    load: async () => (await import('./run.js')).runCommand },
  { name: 'ps', summary: 'List containers', usage: '[OPTIONS]',
    load: async () => (await import('./ps.js')).psCommand },
  { name: 'rm', summary: 'Remove containers (their writable layers and records)', usage: '[OPTIONS] CONTAINER [CONTAINER...]',
    load: async () => (await import('./rm.js')).rmCommand },
  { name: 'rmi', summary: 'Remove image tags (blobs are reclaimed by prune)', usage: 'REF [REF...]',
    load: async () => (await import('./rmi.js')).rmiCommand },
  { name: 'pull', summary: 'Pull an image from a registry into the store', usage: '[OPTIONS] REF',
    load: async () => (await import('./pull.js')).pullCommand },
  { name: 'push', summary: 'Push an image from the store to a registry', usage: '[OPTIONS] REF',
    load: async () => (await import('./push.js')).pushCommand },
  { name: 'login', summary: 'Log in to a registry (stores the credentials as docker does)', usage: '[OPTIONS] [SERVER]',
    load: async () => (await import('./login.js')).loginCommand },
  { name: 'logout', summary: 'Log out from a registry (removes its stored credentials)', usage: '[SERVER]',
    load: async () => (await import('./login.js')).logoutCommand },
  { name: 'save', summary: 'Write images to a tar archive (docker load-able, or an OCI archive)', usage: '[-o FILE] [--format docker|oci] REF [REF...]',
    load: async () => (await import('./save-load.js')).saveCommand },
  { name: 'load', summary: 'Load images from a tar archive (tsbuild save, docker save, OCI archive)', usage: '[-i FILE] [--no-unpack]',
    load: async () => (await import('./save-load.js')).loadCommand },
  { name: 'prune', summary: 'Remove blobs and snapshots that no tag, lease or cache record needs; --cache: build cache records by policy', usage: '[OPTIONS]',
    load: async () => (await import('./maintenance.js')).pruneCommand },
  { name: 'du', summary: 'Show disk usage by kind, and the build cache as `docker buildx du`', usage: '[--verbose] [--filter FILTER] [--format table|json]',
    load: async () => (await import('./maintenance.js')).duCommand },
  { name: 'fsck', summary: 'Verify every blob digest and reference, list what dead builds left; --repair removes both', usage: '[--repair]',
    load: async () => (await import('./maintenance.js')).fsckCommand },
];
