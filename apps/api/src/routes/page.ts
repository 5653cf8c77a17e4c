import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { appPath } from '../app-root';

const publicDir = appPath('src', 'public');

/**
 * Security headers for the index page and its assets only: Bull Board at
 * /admin/queues ships inline scripts and would break under this CSP.
 * No HSTS and no upgrade-insecure-requests: the API itself speaks plain HTTP
 * (TLS, if any, ends in front of it, and that is where HSTS belongs).
 */
const pageHeaders = helmet({
  strictTransportSecurity: false,
  contentSecurityPolicy: {
    directives: { upgradeInsecureRequests: null, formAction: ["'self'"] },
  },
});

/** Plain files, no build step: index.html plus assets/ (JS, CSS). */
export const pageRoutes = {
  index: [
    pageHeaders,
    ((_req, res) => {
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile('index.html', { root: publicDir });
    }) satisfies RequestHandler,
  ],
  assets: [pageHeaders, express.static(publicDir, { index: false, fallthrough: true })],
};
