import { randomUUID } from 'node:crypto';
import { maxFlowDepth, maxFlowJobs, type Config, type Keyspace } from '@async-jobs/shared';
import { checkSubmission, isPlainObject, type Submission } from '../jobs/validate-submission';
import { jobsRefused, type ProblemDetail } from '../middleware/validate';
import { assertOneGroup } from '../jobs/flow-groups';

/** docs/http-api.md "POST /flows": levels from the root (1) down, and jobs in all. */
const MAX_FLOW_DEPTH = maxFlowDepth;
const MAX_FLOW_JOBS = maxFlowJobs;

/** One validated job of a flow, with the id it will have. */
export interface FlowNode {
  id: string;
  sub: Submission;
  /** A child whose failure does not fail its parent (BullMQ's option of that name). */
  ignoreDependencyOnFailure: boolean;
  children: FlowNode[];
}

type Path = (string | number)[];
const at = (path: Path) => path.join('.') || '(root)';

/**
 * Every job of the tree, each checked as a POST /jobs body would be, before anything is
 * written: 400 with every problem, each `path` naming its node (`children.0.children.2.data`).
 * The shape is walked by hand, not by one recursive schema, so that a tree too deep or too
 * big is refused at the first node past the limit without checking what lies below it.
 */
export function checkFlow(body: unknown, config: Config, keys: Keyspace): FlowNode {
  const problems: ProblemDetail[] = [];
  let count = 0;
  const problem = (path: Path, message: string) => {
    problems.push({ path: at(path), message });
  };

  const walk = (raw: unknown, path: Path, depth: number): FlowNode | null => {
    count += 1;
    if (count === MAX_FLOW_JOBS + 1) problem(path, `a flow has at most ${MAX_FLOW_JOBS} jobs`);
    if (depth > MAX_FLOW_DEPTH) problem(path, `a flow has at most ${MAX_FLOW_DEPTH} levels`);
    if (count > MAX_FLOW_JOBS || depth > MAX_FLOW_DEPTH) return null;
    if (!isPlainObject(raw)) {
      problem(path, 'must be a job: an object with type and data');
      return null;
    }
    const { children, ignoreDependencyOnFailure, ...job } = raw;
    if (depth === 1 && ignoreDependencyOnFailure !== undefined) problem([...path, 'ignoreDependencyOnFailure'], 'only a child may set this');
    else if (ignoreDependencyOnFailure !== undefined && typeof ignoreDependencyOnFailure !== 'boolean') {
      problem([...path, 'ignoreDependencyOnFailure'], 'must be true or false');
    }
    const checked = checkSubmission(job, path, config);
    if (!checked.ok) {
      problems.push(...checked.details);
    } else if (checked.value.options.idempotencyKey !== undefined) {
      problem([...path, 'options', 'idempotencyKey'], 'idempotency keys are not supported inside a flow');
    }
    let kids: FlowNode[] = [];
    if (children !== undefined || depth === 1) {
      if (!Array.isArray(children) || (depth === 1 && children.length === 0)) {
        problem([...path, 'children'], depth === 1 ? 'a flow needs children: a non-empty array of jobs' : 'must be an array of jobs');
      } else {
        kids = children.map((c, i) => walk(c, [...path, 'children', i], depth + 1)).filter((n): n is FlowNode => n !== null);
      }
    }
    if (!checked.ok) return null;
    return { id: randomUUID(), sub: checked.value, ignoreDependencyOnFailure: ignoreDependencyOnFailure === true, children: kids };
  };

  const root = walk(body, [], 1);
  if (problems.length > 0) {
    throw jobsRefused(problems, 'the flow');
  }
  // BullMQ needs every queue of a flow in one cluster slot: one queue group (a sharded type spans several).
  assertOneGroup(
    keys,
    flowNodes(root!).map((n) => n.sub.type),
  );
  return root!;
}

/** The tree's jobs, root first, each before its children (the order of the answer's `jobs`). */
export function flowNodes(root: FlowNode): FlowNode[] {
  return [root, ...root.children.flatMap(flowNodes)];
}
