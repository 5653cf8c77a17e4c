import type { z } from 'zod';
import { collect } from './collect';
import { echo } from './echo';
import { hash } from './hash';
import { httpRequest } from './http-request';
import { sleep } from './sleep';
import type { JobTypeDefinition } from './definition';

export type { JobTypeDefinition };

/**
 * The definitions, typed, for code that needs one type's input type (the worker's handlers).
 * Every registered job type: adding one is a file in this folder and an entry here.
 */
export const jobDefinitions = { echo, sleep, hash, httpRequest, collect } as const;

/** Every registered job type by its name, in the order above. */
export const jobTypes: ReadonlyMap<string, JobTypeDefinition> = new Map(Object.values(jobDefinitions).map((t) => [t.name, t]));

export const jobTypeNames = [...jobTypes.keys()];

type Definition = (typeof jobDefinitions)[keyof typeof jobDefinitions];

/**
 * Each type's `data` as a client sends it (fields with defaults optional), by type name;
 * the typed client checks `submit(type, data)` against it.
 */
export type JobInputs = { [D in Definition as D['name']]: z.input<D['input']> };

// A definition whose name is typed `string` (written without `as const`) would make every
// name a known type and every `data` valid for clients: refuse to compile instead.
const literalNames: string extends keyof JobInputs ? never : true = true;
void literalNames;
