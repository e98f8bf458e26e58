// One measured ingest in its own process, so its peak RSS is its own:
// a file streamed through writeLayer (diffID + compression + verified ingest
// in one pass) into a fresh content store. Prints one JSON line.
// Uses the compiled store (run `npx tsc -b` first).
import { createReadStream } from 'node:fs';
import { LocalContentStore, initLayout, writeLayer } from '@tsbuild/store';

const [file, compression, root] = process.argv.slice(2);
await initLayout(root);
const store = new LocalContentStore(root);
const t = process.hrtime.bigint();
const layer = await writeLayer(createReadStream(file, { highWaterMark: 1 << 20 }), store, { compression });
const ms = Number(process.hrtime.bigint() - t) / 1e6;
console.log(JSON.stringify({ ms, maxRssKB: process.resourceUsage().maxRSS, size: layer.descriptor.size, diffID: layer.diffID }));
