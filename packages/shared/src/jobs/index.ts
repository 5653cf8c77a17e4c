import { echo } from './echo';
import { hash } from './hash';
import { httpRequest } from './http-request';
import { sleep } from './sleep';
import type { JobTypeDefinition } from './definition';

export type { JobTypeDefinition };

/** Every registered job type; adding one is a file in this folder and a line here. */
export const jobTypes: ReadonlyMap<string, JobTypeDefinition> = new Map(
  [echo, sleep, hash, httpRequest].map((t) => [t.name, t]),
);

export const jobTypeNames = [...jobTypes.keys()];

/** The definitions by name, typed, for code that needs one type's input type (the worker's handlers). */
export const jobDefinitions = { echo, sleep, hash, httpRequest } as const;
