// Bundles apps/api and apps/worker into one JavaScript file each (apps/<app>/dist/main.js),
// which is what runs: `npm start`, `start:api`/`start:worker`, the bench and the image;
// with `--client`, also the client package (packages/client/dist/), its library and its CLI.
// Compiling TypeScript at run time through tsx cost the API about 45 MB of RSS at idle;
// a bundle costs only esbuild's few hundred milliseconds, once, before start.
// Plain JavaScript, so that it runs before anything is built. `node scripts/bundle.mjs [--client]`.
// The client is left out unless asked for: the image's build stage (Dockerfile) and the start
// scripts have only the two apps' sources, and a start need not rebuild the client.
import { build, stop } from 'esbuild';
import { copyFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export const BUNDLES = { api: 'apps/api/dist/main.js', worker: 'apps/worker/dist/main.js' };

/**
 * Node flags each bundle runs with (also written out in package.json's start:api, the
 * Dockerfile and docker-compose.yml). The API caps V8's young generation at 4 MB semi-spaces
 * instead of 16: it holds thousands of idle long-polls, and when their jobs finish together
 * the young generation grew to its maximum; with 10,000 held, RSS peaked at 260-265 MB
 * instead of 226-246 MB. Single submits measured the same either way; batch submits do not:
 * on 2026-12-04 a batch of 100 came out at 0.56-0.57 of raw addBulk with 16 MB against 0.45
 * with 4 (docs/scaling-out.md, "Sizing the API"). 8 MB was tried:
 * a warm API draining 20,000 jobs spent 10.5-11.5 µs of CPU per job instead of 13-14 (the
 * follower's reads outlive a 4 MB young generation and are promoted), but 10,000 held
 * long-polls then peaked at 242-247 MB, too near the 250 MB target.
 *
 * The old generation's growth is capped only while many requests are held, by the API itself
 * (apps/api/src/events/heap-growth.ts): as a flag here it cost batch submit about a fifth of
 * its throughput.
 */
export const NODE_FLAGS = { api: ['--max-semi-space-size=4'], worker: [] };

/** The Lua scripts are read at run time beside the code that loads them (packages/shared/src/lua/scripts.ts). */
const LUA_DIR = 'packages/shared/src/lua';

export async function bundle() {
  try {
    await bundleAll();
    for (const outfile of Object.values(BUNDLES)) {
      for (const f of readdirSync(join(root, LUA_DIR)).filter((n) => n.endsWith('.lua'))) {
        copyFileSync(join(root, LUA_DIR, f), join(root, dirname(outfile), f));
      }
    }
  } finally {
    // esbuild's service process would otherwise live as long as ours: all of `npm start`.
    await stop();
  }
}

function bundleAll() {
  return Promise.all(
    Object.entries(BUNDLES).map(([app, outfile]) =>
      build({
        absWorkingDir: root,
        entryPoints: [`apps/${app}/src/main.ts`],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        // Dependencies load from node_modules as before; only our own code is bundled.
        // The shared and seed packages are ours too, but resolve through node_modules (workspace
        // links to their TypeScript), so they are pointed at their sources to be bundled with them.
        packages: 'external',
        alias: { '@async-jobs/shared': './packages/shared/src/index.ts', '@async-jobs/seed': './packages/seed/src/index.ts' },
        // Not minified, so stack traces in logs still name our functions; the map is for
        // `node --enable-source-maps`, which is off by default (it costs memory).
        sourcemap: 'linked',
        logLevel: 'warning',
      }),
    ),
  );
}

/** The client package's two builds: the library (any platform with fetch) and its CLI (Node). */
export const CLIENT_BUNDLES = { lib: 'packages/client/dist/index.js', cli: 'packages/client/dist/cli.js' };

/**
 * Bundles packages/client into dist/: the library for Node and browsers, and the
 * `async-jobs` CLI. Each is one self-contained file: the client takes its types from the
 * shared schemas with type-only imports, and a runtime import of anything outside its own
 * sources (zod, the shared package, a Node module in the library) fails this build.
 */
export async function bundleClient() {
  try {
    await Promise.all([
      clientBuild('packages/client/src/index.ts', CLIENT_BUNDLES.lib, { platform: 'neutral', target: 'es2022' }),
      clientBuild('packages/client/src/cli/main.ts', CLIENT_BUNDLES.cli, { platform: 'node', target: 'node20' }),
    ]);
  } finally {
    await stop();
  }
}

async function clientBuild(entry, outfile, settings) {
  const { metafile } = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    ...settings,
    // Node's own modules resolve for the CLI; nothing else may come from outside.
    external: settings.platform === 'node' ? ['node:*'] : [],
    metafile: true,
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  const foreign = Object.keys(metafile.inputs).filter((f) => !f.startsWith('packages/client/src/'));
  if (foreign.length > 0) {
    throw new Error(`${outfile} must not load ${foreign.join(', ')} at run time (import types with \`import type\`)`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundle();
  if (process.argv.includes('--client')) await bundleClient();
}
