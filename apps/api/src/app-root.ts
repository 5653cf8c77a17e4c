import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NAME = '@async-jobs/api';

/**
 * The API's directory (the one holding its package.json), where the files that are not
 * code live: src/public, src/docs-ui, package.json. Found by walking up from this module
 * to the first package.json named @async-jobs/api, because this code runs from two places:
 * as TypeScript in src/ (tests, tsx) and bundled into dist/main.js, where `import.meta.url`
 * is the bundle's, so a path relative to the source file would silently point elsewhere.
 */
function findApp(): { root: string; manifest: { name: string; version: string } } {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    const manifest = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { name: string; version: string }) : null;
    if (manifest?.name === NAME) return { root: dir, manifest };
    if (dirname(dir) === dir) throw new Error(`no package.json of ${NAME} above ${start}`);
  }
}

const app = findApp();
const appRoot = app.root;
/** The app's package.json, for its version. */
export const appManifest = app.manifest;
export const appPath = (...parts: string[]) => join(appRoot, ...parts);
