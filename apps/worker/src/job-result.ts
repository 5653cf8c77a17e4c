import { InvalidResultError } from './errors';

/**
 * Checks that a handler's result can be stored and read back as the same value:
 * JSON, and at most `maxBytes` once serialised. Properties whose value is
 * `undefined` are dropped as JSON does; everything else that JSON would silently
 * change or drop (functions, symbols, BigInt, circular references, a top-level
 * `undefined`) fails the job, since a retry would produce the same result.
 */
export function checkResult(value: unknown, maxBytes: number): unknown {
  if (value === undefined) throw new InvalidResultError('handler returned undefined; a result must be JSON (return {} or null for "nothing")');
  let json: string | undefined;
  try {
    json = JSON.stringify(value, (key, v) => {
      const t = typeof v;
      if (t === 'function' || t === 'symbol' || t === 'bigint') {
        throw new InvalidResultError(`handler result is not JSON: ${key ? `property "${key}" is` : 'it is'} a ${t}`);
      }
      return v;
    });
  } catch (err) {
    if (err instanceof InvalidResultError) throw err;
    const circular = /circular/i.test((err as Error).message);
    throw new InvalidResultError(`handler result is not JSON: ${circular ? 'it contains a circular reference' : (err as Error).message}`);
  }
  if (json === undefined) throw new InvalidResultError('handler result is not JSON');
  const bytes = Buffer.byteLength(json);
  if (bytes > maxBytes) throw new InvalidResultError(`handler result is ${bytes} bytes as JSON, over MAX_RESULT_BYTES (${maxBytes})`);
  // What is stored is the parsed JSON, so the worker returns exactly what clients will read.
  return JSON.parse(json);
}
