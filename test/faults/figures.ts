import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where each fault test leaves its figures; git-ignored (test-artifacts/). */
export const FIGURES_DIR = new URL('../../test-artifacts/faults/', import.meta.url).pathname;

export interface FaultFigures {
  /** The row's label in the README table. */
  fault: string;
  /** How many times the fault was injected (kills, restarts, hostile requests...). */
  injected: number;
  /** Jobs that got a 202 (or were enqueued) while the fault happened. */
  accepted: number;
  /** Of those, how many ended completed (or in the state the test expected) exactly once. */
  completed: number;
  /** Accepted jobs with no terminal record at the end: must be 0. */
  lost: number;
  /** Bad or hostile requests sent, and how many were answered with a 4xx in the error format. */
  badInputs?: number;
  answered4xx?: number;
  /** Anything else worth a footnote (e.g. 503s answered while Redis was down). */
  notes?: string;
}

/** Writes one test's figures as test-artifacts/faults/<name>.json, for scripts/fault-figures.mjs. */
export function writeFigures(name: string, f: FaultFigures): void {
  mkdirSync(FIGURES_DIR, { recursive: true });
  writeFileSync(join(FIGURES_DIR, `${name}.json`), `${JSON.stringify({ ...f, at: new Date().toISOString() }, null, 2)}\n`);
}
