import { readFileSync } from 'node:fs';
import { errorCodes } from '@async-jobs/shared';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../apps/api/src/openapi/document';

/**
 * The error codes are a contract clients branch on: the list the code is typed with
 * (HttpError's `code`), the table of docs/http-api.md "Errors" and the OpenAPI document's
 * description of `code` must name the same codes with the same statuses.
 */
const docs = readFileSync(new URL('../docs/http-api.md', import.meta.url), 'utf8');

/** The rows of the "Errors" table: `| status | \`code\` | when |`. */
function documentedCodes(): [string, number][] {
  const section = docs.slice(docs.indexOf('## Errors'), docs.indexOf('\n## ', docs.indexOf('## Errors') + 1));
  return [...section.matchAll(/^\| (\d{3}) \| `([a-z_]+)` \|/gm)].map((m) => [m[2], Number(m[1])]);
}

describe('the error codes', () => {
  it('are the ones the docs table lists, each with its status, in the same order', () => {
    expect(documentedCodes()).toEqual(Object.entries(errorCodes));
  });

  it('are each named in the OpenAPI description of the error body', () => {
    const doc = openApiDocument() as { components: { schemas: Record<string, any> } };
    const description: string = doc.components.schemas.Error.properties.error.properties.code.description;
    const missing = Object.keys(errorCodes).filter((code) => !new RegExp(`\\b${code}\\b`).test(description));
    expect(missing).toEqual([]);
  });
});
