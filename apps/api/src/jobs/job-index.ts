/*
 * The index behind GET /jobs: one sorted set per type and queue group (list-jobs.ts merges
 * those a page lists), whose members all have score 0 and are ordered by their text, which is
 * `<submit ms, 13 digits>:<sequence, 4 digits>:<id>`. Newest first is then the
 * reverse text order, and a cursor is simply the last member a page showed: the next
 * page starts strictly below it (ZREVRANGEBYLEX), so jobs submitted meanwhile
 * sort above it and never shift, repeat or skip anything. The sequence orders what one
 * process submits within a millisecond (a batch in its input order); submissions of
 * different processes in the same millisecond tie-break on the id, still a total order.
 */

/** A place in the order: submit millisecond, then sequence within it. */
export interface IndexOrder {
  ms: number;
  seq: number;
}

export interface IndexEntry extends IndexOrder {
  id: string;
  type: string;
}

const SEQ_PER_MS = 10000;
let lastOrder: IndexOrder = { ms: 0, seq: -1 };

/**
 * Reserves `n` consecutive places after every place this process handed out before.
 * When a millisecond runs out of sequence numbers, the clock of the index runs ahead
 * by a millisecond; order is what matters here, not the exact time.
 */
export function reserveOrder(n: number, now = Date.now()): IndexOrder {
  let next: IndexOrder = now > lastOrder.ms ? { ms: now, seq: 0 } : { ms: lastOrder.ms, seq: lastOrder.seq + 1 };
  if (next.seq + n > SEQ_PER_MS) next = { ms: next.ms + 1, seq: 0 };
  lastOrder = { ms: next.ms, seq: next.seq + n - 1 };
  return next;
}

// The id is the rest, whatever it holds: a schedule's runs are BullMQ's `repeat:<name>:<ms>`,
// and another producer's ids may hold any character.
const MEMBER = /^(\d{13}):(\d{4}):([\s\S]+)$/;

/**
 * How long an entry may outlive its submission. Finished jobs leave BullMQ on
 * their own and are dropped from the index lazily when a listing meets them; this
 * bound keeps the index from growing without end when nobody lists. It allows the
 * longest delay (30 days) plus the result TTL; a job stuck unfinished for longer
 * stays readable by id but leaves the list.
 */
export const indexHorizonMs = (resultTtlSeconds: number) => (30 * 86400 + resultTtlSeconds) * 1000;

export function indexMember(e: IndexEntry): string {
  return `${String(e.ms).padStart(13, '0')}:${String(e.seq).padStart(4, '0')}:${e.id}`;
}

export function memberId(member: string): string | null {
  return MEMBER.exec(member)?.[3] ?? null;
}

/** ZREMRANGEBYLEX's bound below which index members are past the horizon (exclusive). */
export const indexCutoff = (horizonMs: number, now = Date.now()) => `(${String(now - horizonMs).padStart(13, '0')}`;

/** Cursors are members, base64url-encoded so that clients treat them as opaque. */
export function encodeCursor(member: string): string {
  return Buffer.from(member, 'utf8').toString('base64url');
}

/** The member a cursor points at, or null when it is not one of ours. */
export function decodeCursor(cursor: string): string | null {
  const member = Buffer.from(cursor, 'base64url').toString('utf8');
  return MEMBER.test(member) ? member : null;
}
