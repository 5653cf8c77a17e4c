import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import { appPath } from '../app-root';
import { openApiDocument } from '../openapi/document';

const uiDir = appPath('src', 'docs-ui');
const swaggerDir = dirname(createRequire(appPath('package.json')).resolve('swagger-ui-dist/package.json'));

/** Files the page loads, and where each lives; nothing else of the package is served. */
const assets: Record<string, string> = {
  'swagger-ui.css': swaggerDir,
  'swagger-ui-bundle.js': swaggerDir,
  'favicon-32x32.png': swaggerDir,
  'init.js': uiDir,
};

// Same policy as the index page: scripts and styles from this origin only (no CDN).
const pageHeaders = helmet({
  strictTransportSecurity: false,
  contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
});

let json: string | undefined;

export const docsRoutes = {
  openapi(_req: Request, res: Response) {
    json ??= JSON.stringify(openApiDocument());
    res.type('application/json').send(json);
  },

  /** Swagger UI from the swagger-ui-dist package, pointed at /openapi.json. */
  page: [
    pageHeaders,
    ((_req, res) => {
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile('index.html', { root: uiDir });
    }) satisfies RequestHandler,
  ],

  asset: [
    pageHeaders,
    ((req, res, next) => {
      const name = String(req.params.file);
      const root = Object.hasOwn(assets, name) ? assets[name] : undefined;
      if (!root) return next();
      // Their URLs carry no version: a browser that kept them an hour ran the old UI against a new
      // page after an upgrade. Revalidated instead (Last-Modified makes the answer a 304).
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(name, { root });
    }) satisfies RequestHandler,
  ],
};
