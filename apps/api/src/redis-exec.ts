import type { ChainableCommander } from 'ioredis';

/**
 * A pipeline's or transaction's replies, or its first command's error: ioredis resolves
 * exec() with an error per command rather than rejecting, and a caller that read past a
 * failed write would lose what it was for.
 */
export async function execOrThrow(pipe: ChainableCommander): Promise<unknown[]> {
  const replies = (await pipe.exec()) ?? [];
  for (const [err] of replies) if (err) throw err;
  return replies.map(([, reply]) => reply);
}
