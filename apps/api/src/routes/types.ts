import type { AppContext } from '../deps';
import type { RouteHandler } from '../route-handler';
import { typeItems } from '../types/type-items';

/** GET /types: every registered type, with its paused flag, limits and counts from BullMQ. */
export const typeListRoute =
  (ctx: AppContext): RouteHandler =>
  async () => ({ body: { types: await typeItems(ctx) } });
