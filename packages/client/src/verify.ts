const encoder = new TextEncoder();

/**
 * For receivers of completion callbacks: true when `header` (the request's `Signature`,
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`) signs the raw request `body` with
 * `secret` (the server's CALLBACK_SECRET), and its timestamp is within `toleranceSeconds`
 * (default 300) of `now`, which refuses replays of old deliveries.
 *
 * The same check as `verifyCallbackSignature` of packages/shared (Node's crypto, synchronous;
 * test/client.verify.test.ts holds the two to the same answers), written on Web Crypto so
 * that it runs in browsers, workers and Node alike; hence it answers with a promise. Pass the body exactly as it
 * arrived, before any JSON parsing.
 */
export async function verifyCallbackSignature(secret: string, header: string, body: string, toleranceSeconds = 300, now = Date.now()): Promise<boolean> {
  const parts = new Map(header.split(',').map((p) => [p.slice(0, p.indexOf('=')).trim(), p.slice(p.indexOf('=') + 1).trim()]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!secret || !Number.isInteger(t) || Math.abs(now / 1000 - t) > toleranceSeconds) return false;
  // A SHA-256 HMAC is 32 bytes: 64 hex digits.
  if (!/^[0-9a-f]{64}$/i.test(v1)) return false;
  const signature = new Uint8Array(v1.length / 2);
  for (let i = 0; i < signature.length; i++) signature[i] = parseInt(v1.slice(2 * i, 2 * i + 2), 16);
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  // verify() compares in constant time, unlike comparing hex strings.
  return crypto.subtle.verify('HMAC', key, signature, encoder.encode(`${t}.${body}`));
}
