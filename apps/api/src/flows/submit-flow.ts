import type { JobRecord } from '@async-jobs/shared';
import type { FlowJob } from 'bullmq';
import type { AppContext } from '../deps';
import { bullOptionsOf, submittedView } from '../jobs/job-build';
import { reserveOrder } from '../jobs/job-index';
import { outcomeUnknown } from '../jobs/submit-atomic';
import { defineSubmitExtras, submitExtrasWrites, type SubmittedJob } from '../jobs/submit-extras';
import { TransactionalFlowProducer } from './flow-producer';
import { flowNodes, type FlowNode } from './flow-tree';

/**
 * A node as BullMQ's FlowProducer takes it: the same job a POST /jobs of it would make
 * (job-build.ts), plus what a flow adds. A child fails its parent when it fails for good
 * (BullMQ's `failParentOnFailure`, which is not BullMQ's default: without it the parent
 * would wait forever) unless it asked for `ignoreDependencyOnFailure`. The parent notes
 * its children's order in `opts.asyncJobs.children`: BullMQ keeps them in a set.
 */
function flowJobOf(ctx: AppContext, node: FlowNode, isChild: boolean): FlowJob {
  // FlowProducer takes a node's id from its options (a submit passes it to BullMQ's Job directly).
  const base = { ...bullOptionsOf(node.sub), jobId: node.id };
  const asyncJobs = { ...base.asyncJobs, ...(node.children.length ? { children: node.children.map((c) => ({ id: c.id, type: c.sub.type })) } : {}) };
  return {
    name: node.sub.type,
    queueName: ctx.keys.queueOf(node.sub.type, node.id),
    prefix: ctx.keys.prefixOf(ctx.keys.queueOf(node.sub.type, node.id)),
    data: node.sub.data,
    opts: {
      ...base,
      ...(Object.keys(asyncJobs).length ? { asyncJobs } : {}),
      ...(isChild ? (node.ignoreDependencyOnFailure ? { ignoreDependencyOnFailure: true } : { failParentOnFailure: true }) : {}),
    },
    ...(node.children.length ? { children: node.children.map((c) => flowJobOf(ctx, c, true)) } : {}),
  };
}

/**
 * Writes a validated flow in one MULTI: BullMQ's jobs (through its FlowProducer), and for
 * each job the same tombstone, list-index entry and `submitted` event as POST /jobs writes.
 * Answers the resources of all its jobs, root first.
 */
export async function submitFlow(ctx: AppContext, root: FlowNode): Promise<JobRecord[]> {
  const nodes = flowNodes(root);
  defineSubmitExtras(ctx.queueRedis);
  // Every job of a flow is in one queue group (flow-tree.ts), so the root's tells where all of them are.
  const group = ctx.keys.layout.groupOfQueue(ctx.keys.queueOf(root.sub.type, root.id));
  const producer = new TransactionalFlowProducer({ connection: ctx.queueRedis, prefix: group.prefix, skipVersionCheck: true });
  try {
    const timestamps = new Map<string, number>();
    const views: JobRecord[] = [];
    await producer
      .addWith(flowJobOf(ctx, root, false), (tx, entries) => {
        for (const e of entries) timestamps.set(e.jobId, e.jobData.timestamp);
        const parentOf = new Map(nodes.flatMap((n) => n.children.map((c) => [c.id, n] as const)));
        const submitted: SubmittedJob[] = [];
        const first = reserveOrder(nodes.length);
        for (const n of nodes) {
          const ts = timestamps.get(n.id) ?? Date.now();
          const view = submittedView(n.id, n.sub, ts);
          if (n.children.length) {
            view.state = 'waiting-children';
            view.children = n.children.map((c) => ({
              id: c.id,
              type: c.sub.type,
              state: c.children.length ? 'waiting-children' : submittedView(c.id, c.sub, ts).state,
            }));
          }
          const parent = parentOf.get(n.id);
          if (parent) view.parent = { id: parent.id, type: parent.sub.type };
          views.push(view);
          submitted.push({ sub: n.sub, view, timestamp: ts, seq: first.seq + submitted.length });
        }
        // Tombstones, list-index entries and `submitted` events, as a submit writes them.
        submitExtrasWrites(tx, ctx.redis, ctx.keys, ctx.config, group, submitted, first.ms);
      })
      .catch((err: unknown) => {
        throw outcomeUnknown(err);
      });
    const perType = new Map<string, number>();
    for (const n of nodes) perType.set(n.sub.type, (perType.get(n.sub.type) ?? 0) + 1);
    for (const [type, n] of perType) ctx.metrics.jobSubmitted(type, n);
    return views;
  } finally {
    await producer.close();
  }
}
