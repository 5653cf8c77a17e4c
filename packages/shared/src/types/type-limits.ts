/** How a job type is throttled across all workers together (BullMQ's queue-wide limits). */
export interface TypeLimits {
  /** At most `max` jobs of the type start per `durationMs` (BullMQ's global rate limit). */
  rate?: { max: number; durationMs: number };
  /** At most this many jobs of the type run at once (BullMQ's global concurrency). */
  concurrency?: number;
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;
const MAX_DURATION_MS = 24 * 3600 * 1000;
const MAX_COUNT = 1_000_000;

/** Thrown with a message that names the part of TYPE_LIMITS that is wrong. */
export class TypeLimitsError extends Error {
  override name = 'TypeLimitsError';
}

const positiveInt = (text: string, what: string, max: number): number => {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new TypeLimitsError(`${what} must be a whole number from 1 to ${max}, got "${text}"`);
  }
  return Number(text);
};

/** `10/1s`, `100/500ms`, `5/m` (a bare unit means 1 of it). */
function parseRate(text: string, where: string): { max: number; durationMs: number } {
  const m = /^(\d+)\/(\d*)(ms|s|m)$/.exec(text);
  if (!m) throw new TypeLimitsError(`${where}: rate must look like 10/1s (count/duration, duration units ms, s or m), got "${text}"`);
  const max = positiveInt(m[1], `${where}: rate count`, MAX_COUNT);
  const durationMs = (m[2] === '' ? 1 : Number(m[2])) * UNIT_MS[m[3] as keyof typeof UNIT_MS];
  if (durationMs < 1 || durationMs > MAX_DURATION_MS) {
    throw new TypeLimitsError(`${where}: rate duration must be from 1ms to 24h, got "${text.slice(m[1].length + 1)}"`);
  }
  return { max, durationMs };
}

/**
 * Parses TYPE_LIMITS: `type:key=value,key=value;type:...`, keys `rate` (`N/<duration>`,
 * units ms, s, m) and `concurrency` (N). `knownTypes` are the registered job types: a limit
 * on any other name would silently do nothing, so it is refused. Empty means no limits.
 */
export function parseTypeLimits(raw: string, knownTypes: readonly string[]): Record<string, TypeLimits> {
  const out: Record<string, TypeLimits> = {};
  for (const part of raw.split(';').map((p) => p.trim())) {
    if (part === '') continue;
    const colon = part.indexOf(':');
    if (colon < 0) throw new TypeLimitsError(`"${part}" must be type:key=value[,key=value], e.g. hash:concurrency=2`);
    const type = part.slice(0, colon).trim();
    if (!knownTypes.includes(type)) {
      throw new TypeLimitsError(`unknown job type "${type}" in "${part}"; known types: ${knownTypes.join(', ')}`);
    }
    if (type in out) throw new TypeLimitsError(`job type "${type}" is given twice; give each type once, its limits separated by commas`);
    const limits: TypeLimits = {};
    const settings = part
      .slice(colon + 1)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (settings.length === 0) throw new TypeLimitsError(`"${part}" names no limit; use rate=N/<duration> and/or concurrency=N`);
    for (const setting of settings) {
      const [key, value, extra] = setting.split('=').map((s) => s.trim());
      const where = `${type} ${setting}`;
      if (value === undefined || value === '' || extra !== undefined) throw new TypeLimitsError(`"${setting}" in "${part}" must be key=value`);
      if (key in limits) throw new TypeLimitsError(`"${key}" is given twice for ${type}`);
      if (key === 'rate') limits.rate = parseRate(value, where);
      else if (key === 'concurrency') limits.concurrency = positiveInt(value, `${where}: concurrency`, MAX_COUNT);
      else throw new TypeLimitsError(`unknown limit "${key}" in "${part}"; known: rate, concurrency`);
    }
    out[type] = Object.freeze(limits);
  }
  return Object.freeze(out);
}
