/**
 * Writes the OpenAPI document that GET /openapi.json serves, built by the same function
 * and without a server (nothing in it depends on configuration or Redis), for tools that
 * read a file: `npm run lint:openapi` lints it with Redocly.
 *
 *   tsx scripts/write-openapi.ts [path]   (default test-artifacts/openapi.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { openApiDocument } from '../apps/api/src/openapi/document';

const out = process.argv[2] ?? 'test-artifacts/openapi.json';
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log(`wrote ${out}`);
