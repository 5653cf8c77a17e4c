import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLinks, linksOf } from './markdown-links';

const root = resolve(new URL('..', import.meta.url).pathname);
const docs = [
  join(root, 'README.md'),
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(root, 'docs', f)),
];
const read = (file: string) => readFileSync(file, 'utf8');

describe('links in README.md and docs/*.md', () => {
  it('point to files inside the repo, and their #anchors to headings that exist', () => {
    const problems = docs.flatMap((file) => checkLinks(root, file, read(file)));
    expect(problems).toEqual([]);
  });

  it('lead from the README to the HTTP reference and the wire format', () => {
    const links = linksOf(read(join(root, 'README.md')));
    expect(links).toContain('docs/http-api.md');
    expect(links).toContain('docs/wire-format.md');
  });

  it('are checked: one that leaves the repo, a missing file and a missing heading are each reported', () => {
    const file = join(root, 'docs', 'example.md');
    const md = [
      '# Example',
      '[private](../../private/notes.md) [up one](../README.md) [gone](missing.md)',
      '[here](#example) [there](http-api.md#errors) [nowhere](http-api.md#no-such-heading) [self-nowhere](#nope)',
      '[abs](/etc/passwd) [file](file:///tmp/notes.md) [web](https://example.org/a.md)',
      '`[in code](../../outside.md)`',
      '```',
      '[in a block](../../outside.md)',
      '```',
    ].join('\n');
    const reported = checkLinks(root, file, md).map((p) => p.link);
    expect(reported).toEqual(['../../private/notes.md', 'missing.md', 'http-api.md#no-such-heading', '#nope', '/etc/passwd', 'file:///tmp/notes.md']);
  });
});
