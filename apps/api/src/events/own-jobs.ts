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

/**
 * Two generations, each up to half the bound: when the newer one fills, the older one is
 * dropped whole. Evicting one oldest entry per insert instead (a Map's first key) costs a
 * walk over every slot deleted before it, which V8 keeps until the map is rehashed: at the
 * bound under a backlog that walk was a seventh of the API's CPU in a batch submit.
 */
export function createOwnJobs(max = MAX_KNOWN): OwnJobs {
  const half = Math.max(1, Math.floor(max / 2));
  let older = new Map<string, boolean>();
  let newer = new Map<string, boolean>();
  const lookup = (id: string) => newer.get(id) ?? older.get(id);
  return {
    note(id, callback) {
      older.delete(id);
      newer.set(id, callback);
      if (newer.size >= half) {
        older = newer;
        newer = new Map();
      }
    },
    forget(ids) {
      for (const id of ids) {
        newer.delete(id);
        older.delete(id);
      }
    },
    isOwn: (id) => lookup(id) !== undefined,
    mayHaveCallback: (id) => lookup(id) !== false,
    ended(id) {
      newer.delete(id);
      older.delete(id);
    },
  };
}
