#!/usr/bin/env node
// The tsbuild binary: a thin shim over the compiled CLI (npm run build / scripts/setup.sh).
import { main } from '../dist/main.js';

process.exitCode = await main(process.argv.slice(2));
