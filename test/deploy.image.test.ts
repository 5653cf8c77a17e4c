import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLES, NODE_FLAGS } from '../scripts/bundle.mjs';
import { freePort } from './faults/redis-server';
import { createTestContext, waitFor } from './helpers';

/*
 * There is no Docker engine here, so the Dockerfile's stages are played out in plain
 * folders: each gets exactly what its COPY lines give it, and runs what its RUN and CMD
 * lines run. node_modules stands for the deps stage (a link to the repo's): `npm ci
 * --omit=dev` from the copied manifests is npm's part, not ours.
 */

const root = new URL('..', import.meta.url).pathname;
const ctx = createTestContext();
const dirs: string[] = [];

afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await ctx.cleanup();
});

interface Stage {
  name: string;
  /** The stage it starts from (`FROM deps AS build`), when that is one of the file's own. */
  base?: string;
  copies: { from?: string; src: string; dest: string }[];
  runs: string[];
  cmd?: string[];
}

/** The Dockerfile's stages, with the instructions this test plays out. */
function stages(): Stage[] {
  const out: Stage[] = [];
  for (const raw of readFileSync(join(root, 'Dockerfile'), 'utf8').split('\n')) {
    const line = raw.trim();
    const from = /^FROM (\S+)(?: AS (\S+))?$/i.exec(line);
    if (from) out.push({ name: from[2] ?? '', base: out.find((s) => s.name === from[1])?.name, copies: [], runs: [], cmd: undefined });
    const stage = out.at(-1);
    if (!stage) continue;
    const copy = /^COPY (?:--from=(\S+) )?(.+)$/.exec(line);
    if (copy) {
      const parts = copy[2].split(/\s+/);
      const dest = parts.pop()!;
      for (const src of parts) stage.copies.push({ from: copy[1], src, dest });
    }
    if (line.startsWith('RUN ')) stage.runs.push(line.slice(4));
    if (line.startsWith('CMD ')) stage.cmd = JSON.parse(line.slice(4)) as string[];
  }
  return out;
}

const stageNamed = (name: string) => stages().find((s) => s.name === name)!;

/**
 * Whether the build context leaves `path` (relative to the repo) out, by the patterns of
 * .dockerignore that apply under the copied folders: a name at any depth, and a file ending.
 * Without this a checkout's own dist/ would be copied in, and stale bundles pass the test.
 */
const ignorePatterns = readFileSync(join(root, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l.startsWith('**/') || l.startsWith('*.'));
function ignored(path: string): boolean {
  const parts = path.split('/');
  return ignorePatterns.some((p) => (p.startsWith('**/') ? parts.includes(p.slice(3)) : parts.at(-1)!.endsWith(p.slice(1))));
}

/** A folder that holds what the stage's COPY lines give it: from the repo, or from an earlier stage's folder. */
function playCopies(stage: Stage, built: Map<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), `aj-image-${stage.name}-`));
  dirs.push(dir);
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  const inherited = (s: Stage): Stage['copies'] => [...(s.base ? inherited(stageNamed(s.base)) : []), ...s.copies];
  for (const c of inherited(stage)) {
    if (c.from === 'deps' && c.src === '/app/node_modules') continue;
    const base = c.from ? built.get(c.from) : root;
    if (!base) throw new Error(`COPY --from=${c.from}: no such stage played before`);
    const src = c.from ? join(base, c.src.replace(/^\/app\//, '')) : join(root, c.src);
    const dest = c.dest.endsWith('/') || c.dest === './' ? join(dir, c.dest, c.src.endsWith('/') ? '' : c.src.split('/').pop()!) : join(dir, c.dest);
    cpSync(src, dest, { recursive: true, filter: (p) => c.from !== undefined || !ignored(p.slice(root.length)) });
  }
  return dir;
}

describe('the Dockerfile', () => {
  const all = stages();
  const built = new Map<string, string>();

  it('builds the bundles in its build stage from only the files that stage copies', () => {
    const build = all.find((s) => s.name === 'build')!;
    expect(build.runs).toEqual(['node scripts/bundle.mjs']);
    const dir = playCopies(build, built);
    const run = spawnSync('sh', ['-c', build.runs[0]], { cwd: dir, encoding: 'utf8', timeout: 60000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    for (const f of ['apps/api/dist/main.js', 'apps/worker/dist/main.js', 'apps/api/dist/read-job.lua']) expect(existsSync(join(dir, f)), f).toBe(true);
    built.set('build', dir);
  });

  it('runs an API from its runtime stage that answers and stops on SIGTERM', async () => {
    const runtime = all.at(-1)!;
    expect(built.has('build'), 'the build stage ran').toBe(true);
    const dir = playCopies(runtime, built);
    const port = await freePort();
    const [cmd, ...args] = runtime.cmd!;
    expect(cmd).toBe('node');
    const api = spawn(process.execPath, args, {
      cwd: dir,
      env: ctx.env({ HOST: '127.0.0.1', PORT: String(port), NODE_ENV: 'production' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    api.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => api.once('exit', (code) => resolve(code)));
    try {
      const ready = await waitFor(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null);
        return res?.status === 200 ? res : null;
      }, 20000).catch((err: Error) => {
        throw new Error(`${err.message}; stderr: ${stderr}`);
      });
      expect(await ready.json()).toMatchObject({ status: 'ready' });
      const submitted = await fetch(`http://127.0.0.1:${port}/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'echo', data: { from: 'image' } }),
      });
      expect(submitted.status).toBe(202);
    } finally {
      api.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('starts the API with the Node flags of NODE_FLAGS, as package.json and docker-compose.yml do', () => {
    const api = [...NODE_FLAGS.api, BUNDLES.api];
    expect(all.at(-1)!.cmd).toEqual(['node', ...api]);
    const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['start:api']).toBe(`exec node ${api.join(' ')}`);
    expect(readFileSync(join(root, 'docker-compose.yml'), 'utf8')).toContain(`command: ${JSON.stringify(['node', ...api]).replaceAll(',', ', ')}`);
  });
});
