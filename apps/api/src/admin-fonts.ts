import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import ejs from 'ejs';
import type { Express, RequestHandler } from 'express';
import { appPath } from './app-root';

/**
 * Bull Board's page loads its fonts (IBM Plex) from Google Fonts, a request that
 * leaves the machine and fails offline. The same families are on npm as @fontsource
 * packages; the page's links to other hosts are replaced by links to those files,
 * which are served next to the board.
 */

/** The @fontsource packages in package.json, by the family name Google's URL uses. */
const SHIPPED = ['IBM Plex Sans', 'IBM Plex Mono'];

const slugOf = (family: string) => family.toLowerCase().trim().replace(/\s+/g, '-');
const requireHere = createRequire(appPath('package.json'));
const fontDirs = new Map(SHIPPED.map((f) => [slugOf(f), dirname(requireHere.resolve(`@fontsource/${slugOf(f)}/package.json`))]));

/** `wght@400;500` or `ital,wght@0,400;1,700` (Google's css2 axes) as @fontsource file names: `400`, `700-italic`. */
function styles(axes: string | undefined): string[] {
  if (!axes?.includes('@')) return ['400'];
  const [names, tuples] = axes.split('@');
  const keys = names.split(',');
  return tuples.split(';').map((tuple) => {
    const at = Object.fromEntries(tuple.split(',').map((v, i) => [keys[i], v]));
    return `${at.wght ?? '400'}${at.ital === '1' ? '-italic' : ''}`;
  });
}

/** A Google Fonts stylesheet URL as links to our copies of the families we ship; others are left to the page's fallback fonts. */
function localLinks(href: string): string {
  const url = new URL(href.replaceAll('&amp;', '&'));
  if (url.hostname !== 'fonts.googleapis.com') return '';
  return url.searchParams
    .getAll('family')
    .flatMap((spec) => {
      const [family, axes] = spec.split(':');
      const slug = slugOf(family);
      return fontDirs.has(slug) ? styles(axes).map((s) => `<link href="fonts/${slug}/${s}.css" rel="stylesheet">`) : [];
    })
    .join('');
}

/** Every `<link>` in Bull Board's page to another host, replaced (fonts) or dropped (anything else). */
export function withoutOutsideLinks(html: string): string {
  return html.replace(/<link\b[^>]*\bhref="(https?:\/\/[^"]+)"[^>]*>/gi, (_tag, href: string) => localLinks(href));
}

/** Renders the board's page through `withoutOutsideLinks`; Bull Board keeps its own template and data. */
export function renderWithLocalFonts(board: Express): void {
  board.engine('ejs', (file, data, done) => ejs.renderFile(file, data, (err, html) => done(err, html === undefined ? html : withoutOutsideLinks(html))));
}

/** A stylesheet of one weight and style, or a font file it points at; nothing else of the packages. */
const FONT_FILE = /^(?:\d{3}(?:-italic)?\.css|files\/[a-z0-9-]+\.woff2?)$/;

/** `fonts/<family>/<file>` under the board's path: the files `localLinks` points at. */
export const fontFiles: RequestHandler = (req, res, next) => {
  const m = /^\/fonts\/([a-z0-9-]+)\/(.+)$/.exec(req.path);
  const dir = m && fontDirs.get(m[1]);
  if (!m || !dir || !FONT_FILE.test(m[2])) return next();
  res.sendFile(m[2], { root: dir, maxAge: '1h' });
};
