import { FlowProducer, QueueKeys, type FlowJob, type FlowJobEntry, type JobNode, type RedisQueueBackend } from 'bullmq';
import type { ChainableCommander } from 'ioredis';

/**
 * BullMQ's FlowProducer, with room for writes of ours in the flow's own transaction.
 *
 * FlowProducer.add builds every node's job with BullMQ's own code (addNode: ids, parent
 * options, dependency keys) and hands them to the backend's addFlow, which opens a MULTI
 * of its own and executes it at once: nothing can be added to it from outside. So `add`
 * here keeps BullMQ's node building and does addFlow's part itself, on the same backend
 * calls (addJobToTransaction per entry, then releaseParentIfNoPendingDependencies per
 * parent, as addFlow does), on a MULTI that `ours` adds to before it runs. Every flow job
 * and its tombstone and index entry are then written together or not at all.
 */
export class TransactionalFlowProducer extends FlowProducer {
  async addWith(flow: FlowJob, ours: (tx: ChainableCommander, entries: FlowJobEntry[]) => void): Promise<JobNode> {
    const entries: FlowJobEntry[] = [];
    await this.waitUntilReady();
    const tree = await this.addNode({ entries, node: flow });
    const backend = this.getBackend() as RedisQueueBackend;
    const tx = (await backend.client).multi();
    const parents = new Map<string, { parentId: string | undefined; parentQueueKey: string | undefined }>();
    for (const entry of entries) {
      const keys = new QueueKeys(entry.prefix).getKeys(entry.queueName);
      await backend.addJobToTransaction(tx, entry.jobData, entry.jobId, { ...entry.parentKeyOpts, deferParentRelease: true }, keys);
      const parent = entry.jobData.parent;
      const parentKey = entry.parentKeyOpts?.parentKey;
      if (parent && parentKey) parents.set(parentKey, { parentId: parent.id, parentQueueKey: parent.queueKey });
    }
    for (const [parentKey, { parentId, parentQueueKey }] of parents) {
      backend.execCommand(tx, 'releaseParentIfNoPendingDependencies', [parentKey, `${parentKey}:dependencies`, parentQueueKey, parentId, Date.now()]);
    }
    ours(tx as unknown as ChainableCommander, entries);
    const replies = (await tx.exec()) as [Error | null, unknown][] | null;
    if (!replies) throw new Error('Connection is closed: the flow transaction was discarded');
    replies.forEach(([err, reply], i) => {
      if (err) throw err;
      // BullMQ's add scripts answer a negative code for a job they refused (a missing parent, say).
      if (i < entries.length && typeof reply === 'number' && reply < 0) throw new Error(`BullMQ refused flow job ${entries[i].jobId} (code ${reply})`);
    });
    return tree;
  }
}
