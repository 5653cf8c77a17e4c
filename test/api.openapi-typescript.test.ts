import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { useApi } from './system-harness';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
// openapi-typescript needs TypeScript's JS API, which the repo's TypeScript 7 does not have:
// it lives in its own workspace with a TypeScript 5 of its own (tools/openapi-typescript).
const generator = join(root, 'tools/openapi-typescript/node_modules/openapi-typescript/bin/cli.js');
const tsc = join(root, 'node_modules/.bin/tsc');

/**
 * A caller as a client author writes one against the generated types: only the fields it
 * needs, the server's defaults for the rest. The `@ts-expect-error` lines make sure the
 * types say something (a type that accepted anything would leave those directives unused,
 * which is an error).
 */
const caller = `
import type { components, paths } from './api';

type Submit = paths['/jobs']['post']['requestBody']['content']['application/json'];
type Job = components['schemas']['JobResource'];

export const jobs: Submit[] = [
  { type: 'hash', data: { text: 'abc' } },
  { type: 'echo', data: { a: 1 }, options: { priority: 1 } },
  { type: 'sleep', data: { ms: 10 }, options: { attempts: 5, backoff: { type: 'fixed', delay: 100 } } },
  { type: 'http.request', data: { url: 'https://example.org/' } },
  // @ts-expect-error: a hash job needs its text
  { type: 'hash', data: { rounds: 2 } },
  // @ts-expect-error: no such option
  { type: 'echo', data: {}, options: { retries: 3 } },
];

export const batch: paths['/jobs/batch']['post']['requestBody']['content']['application/json'] = { jobs };

export function digestOf(job: Job): string | null {
  if (job.type === 'hash') return job.result?.digest ?? null;
  // @ts-expect-error: only a hash job's result has a digest
  if (job.type === 'sleep') return job.result?.digest ?? null;
  return null;
}

export function submittedAt(job: Job): string {
  return job.submittedAt;
}

export const accepted = (body: paths['/jobs']['post']['responses'][202]['content']['application/json']): Job => body;
`;

const sys = useApi();
let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('generates types with openapi-typescript that a caller using only defaults compiles against', async () => {
  dir = await mkdtemp(join(tmpdir(), 'aj-openapi-ts-'));
  // From the live document, with openapi-typescript's default settings.
  await run(process.execPath, [generator, `${sys.api.url}/openapi.json`, '-o', join(dir, 'api.ts')], { cwd: dir });
  await writeFile(join(dir, 'caller.ts'), caller);
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'preserve', moduleResolution: 'bundler', types: [] },
      files: ['caller.ts'],
    }),
  );
  const compiled = await run(tsc, ['-p', dir], { cwd: dir }).then(
    () => ({ ok: true, out: '' }),
    (err: { stdout?: string; stderr?: string }) => ({ ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
  );
  expect(compiled.out).toBe('');
  expect(compiled.ok).toBe(true);
});
