/**
 * JSON with object keys sorted at every level, so that two requests that differ
 * only in key order (or in keys set to undefined) encode to the same text.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) {
    const inner = (v as Record<string, unknown>)[k];
    if (inner !== undefined) out[k] = sortKeys(inner);
  }
  return out;
}
