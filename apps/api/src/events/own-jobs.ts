/**
 * The jobs this API process submitted itself and has not seen end yet, each with whether
 * it asked for a callback. While this process relays, that spares Redis a question per
 * job: a job submitted here is in the list index already (written in its submit's
 * transaction), so it is not a foreign one, and one that gave no callbackUrl has no
 * callback due. A job it does not know (another process's, a foreign producer's, or one
 * pushed out of the bound) is asked about as before, so a miss costs a round trip, never
 * a wrong answer.
 */
export interface OwnJobs {
  /** Before the submit's transaction is sent: its `added` entry may be read before the reply. */
  note(id: string, callback: boolean): void;
  /** The transaction failed (or its outcome is unknown): ask Redis about these again. */
  forget(ids: readonly string[]): void;
  isOwn(id: string): boolean;
  /** false only for a job of ours without a callbackUrl. */
  mayHaveCallback(id: string): boolean;
  /** The job ended: a later run (a retry by hand) is asked about again. */
  ended(id: string): void;
}

/** Past this many unfinished jobs the oldest are dropped (~100 B each, 2 MB at most): a long backlog falls back to asking. */
const MAX_KNOWN = 20_000;

export function createOwnJobs(max = MAX_KNOWN): OwnJobs {
  // Insertion order is submit order, so the first key is the oldest.
  const known = new Map<string, boolean>();
  return {
    note(id, callback) {
      known.set(id, callback);
      if (known.size > max) known.delete(known.keys().next().value as string);
    },
    forget(ids) {
      for (const id of ids) known.delete(id);
    },
    isOwn: (id) => known.has(id),
    mayHaveCallback: (id) => known.get(id) !== false,
    ended(id) {
      known.delete(id);
    },
  };
}
