#!/usr/bin/env node
// The CLI is built into dist/ by `npm run build`; npm links a bin only when its file exists
// at install time, which dist/ does not on a fresh clone. So the bin is this committed file.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('async-jobs: the CLI is not built yet; run `npm run build` in the repository first\n');
  process.exit(1);
}
await import(cli.href);
