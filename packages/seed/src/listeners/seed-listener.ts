import type { Listener } from '../listener';

/** A seed listener (list or pub/sub) that also says how much it has taken in. */
export interface SeedListener extends Listener {
  /** Elements or messages received so far. */
  readonly consumed: number;
  /** Resolves once the listener is waiting on Redis (first BLPOP sent, or SUBSCRIBE confirmed). */
  readonly ready: Promise<void>;
}

/** Log lines must stay short whatever someone pushed onto the list. */
export function preview(elem: string, max = 200): string {
  return elem.length > max ? `${elem.slice(0, max)}…` : elem;
}
