/**
 * The ImagePuller a CLI build hands the builder: registry-pull.ts (and with it
 * the registry client and undici) is imported on the first pull only, so a
 * build whose images are all in the store starts as fast as before.
 */
import type { ImagePuller } from '@tsbuild/builder';
import type { RegistryClientOptions } from '@tsbuild/registry-client';
import type { Store } from '@tsbuild/store';

export function lazyImagePuller(store: Store, clientOptions: () => Promise<RegistryClientOptions>): ImagePuller & { close(): Promise<void> } {
  let real: Promise<ImagePuller & { close(): Promise<void> }> | undefined;
  return {
    async pull(ref, options) {
      real ??= import('./registry-pull.js').then((m) => m.createImagePuller(store, clientOptions));
      return (await real).pull(ref, options);
    },
    async close() {
      await (await real?.catch(() => undefined))?.close();
    },
  };
}
