import type { Request, Response } from 'express';
import type { AppContext } from '../deps';

export const metricsRoutes = (ctx: AppContext) => ({
  /** Prometheus text exposition of this instance's registry. */
  async scrape(_req: Request, res: Response) {
    const body = await ctx.metrics.registry.metrics();
    res.setHeader('Content-Type', ctx.metrics.registry.contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.send(body);
  },
});
