import type { AppContext } from '../deps';
import type { HttpReply } from '../route-handler';

export const metricsRoutes = (ctx: AppContext) => ({
  /** Prometheus text exposition of this instance's registry. */
  async scrape(): Promise<HttpReply> {
    const text = await ctx.metrics.registry.metrics();
    return { headers: { 'Content-Type': ctx.metrics.registry.contentType, 'Cache-Control': 'no-store' }, text };
  },
});
