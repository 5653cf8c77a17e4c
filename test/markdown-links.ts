import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';

export interface LinkProblem {
  file: string;
  link: string;
  problem: string;
}

/** A Markdown text without its fenced code blocks, which hold neither links nor headings. */
function withoutFences(md: string): string {
  return md.replace(/^( {0,3})(```|~~~)[^\n]*\n[\s\S]*?^\1\2[^\n]*$/gm, '');
}

/** ...and without `code spans`, where brackets are not links (a link's text may still be one). */
function prose(md: string): string {
  return withoutFences(md).replace(/(`+)[^`\n][\s\S]*?\1/g, '');
}

/** Every link target of a Markdown text: inline links and images, reference definitions, HTML href/src. */
export function linksOf(md: string): string[] {
  const text = prose(md);
  const found: string[] = [];
  for (const m of text.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]*)>?(?:\s+["'(][^)]*)?\)/g)) found.push(m[1]);
  for (const m of text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) found.push(m[1]);
  for (const m of text.matchAll(/<(?:a|img)\s[^>]*?(?:href|src)\s*=\s*"([^"]*)"/gi)) found.push(m[1]);
  return found;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a Markdown file offers: one per heading (repeats get -1, -2, … as on GitHub), and explicit ids. */
export function anchorsOf(md: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of withoutFences(md).matchAll(/^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$/gm)) {
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of md.matchAll(/<a\s[^>]*?(?:id|name)\s*=\s*"([^"]+)"/gi)) anchors.add(m[1]);
  return anchors;
}

/** Links to the web are fine; any other scheme (file:, …) points at a machine, not at the repo. */
const WEB = /^(?:https?:|mailto:|\/\/)/i;
const SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/**
 * The problems of the links in `file` (a path inside `root`): a link that leaves the repo
 * (an absolute path, a file: URL, `../` past the root), one to a file that does not exist,
 * and an anchor (`#x`, `other.md#x`) that names no heading of its Markdown target.
 */
export function checkLinks(root: string, file: string, md: string): LinkProblem[] {
  const problems: LinkProblem[] = [];
  const where = relative(root, file);
  const report = (link: string, problem: string) => problems.push({ file: where, link, problem });
  for (const link of linksOf(md)) {
    if (WEB.test(link)) continue;
    if (SCHEME.test(link)) {
      report(link, 'leaves the repo (not a relative link)');
      continue;
    }
    const hash = link.indexOf('#');
    const path = decodeURIComponent(hash >= 0 ? link.slice(0, hash) : link);
    const anchor = hash >= 0 ? decodeURIComponent(link.slice(hash + 1)) : '';
    if (path.startsWith('/')) {
      report(link, 'leaves the repo (an absolute path; write it relative to this file)');
      continue;
    }
    if (path === '') {
      if (anchor && !anchorsOf(md).has(anchor)) report(link, `no heading #${anchor} in this file`);
      continue;
    }
    const target = resolve(dirname(file), path);
    if (target !== root && !target.startsWith(root + sep)) {
      report(link, 'leaves the repo');
      continue;
    }
    if (!existsSync(target)) {
      report(link, 'no such file in the repo');
      continue;
    }
    if (anchor && target.endsWith('.md') && statSync(target).isFile() && !anchorsOf(readFileSync(target, 'utf8')).has(anchor)) {
      report(link, `no heading #${anchor} in ${relative(root, target)}`);
    }
  }
  return problems;
}
