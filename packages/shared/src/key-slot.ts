/** Slots of a Redis Cluster; every key belongs to exactly one. */
const SLOTS = 16384;

/** CRC16/XMODEM, the checksum Redis Cluster hashes keys with (cluster spec, "Key distribution model"). */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/**
 * The cluster slot of `key`, as CLUSTER KEYSLOT computes it: when the key has a
 * non-empty `{...}` (the first `{` and the first `}` after it), only that hash tag
 * is hashed, which is how keys are kept together in one slot.
 */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(key, 'utf8')) % SLOTS;
}
