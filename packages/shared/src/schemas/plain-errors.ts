import { z } from 'zod';

type Schema = z.core.$ZodType;
type Issue = z.core.$ZodRawIssue & { schema?: Schema };

/**
 * What a field takes, in words of our own, where its schema alone says too little: to
 * the schema a job `type` is any short string, but a person needs the type names.
 */
export const acceptedWords = z.registry<{ accepts: string }>();

interface Bounds {
  min?: number;
  max?: number;
  /** Whether `min` (or `max`) itself is allowed; zod's `.positive()` excludes it. */
  minIncluded: boolean;
  maxIncluded: boolean;
  int: boolean;
}

/** A bound a person would want to read: not the ±2^53 that `.int()` adds by itself. */
const real = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && Math.abs(n) < Number.MAX_SAFE_INTEGER;

function boundsOf(schema: Schema): Bounds {
  const b: Bounds = { minIncluded: true, maxIncluded: true, int: false };
  for (const check of schema._zod.def.checks ?? []) {
    const d = check._zod.def as { check: string; value?: unknown; inclusive?: boolean; minimum?: unknown; maximum?: unknown; format?: string };
    if (d.check === 'greater_than' && real(d.value)) [b.min, b.minIncluded] = [d.value, d.inclusive !== false];
    if (d.check === 'less_than' && real(d.value)) [b.max, b.maxIncluded] = [d.value, d.inclusive !== false];
    if (d.check === 'min_length' && real(d.minimum)) b.min = d.minimum;
    if (d.check === 'max_length' && real(d.maximum)) b.max = d.maximum;
    if (d.check === 'number_format' && /int/.test(d.format ?? '')) b.int = true;
  }
  return b;
}

/** " from 0 to 600000", " of at least 1", "" */
function span(b: Bounds): string {
  const low = b.min === undefined ? '' : b.minIncluded ? `at least ${b.min}` : `greater than ${b.min}`;
  const high = b.max === undefined ? '' : b.maxIncluded ? `at most ${b.max}` : `less than ${b.max}`;
  if (b.min !== undefined && b.max !== undefined && b.minIncluded && b.maxIncluded) return ` from ${b.min} to ${b.max}`;
  const parts = [low, high].filter(Boolean);
  return parts.length ? ` of ${parts.join(' and ')}` : '';
}

/** " of 1 to 255 characters", " of at most 1000 items" */
function sizeOf(b: Bounds, unit: string): string {
  if (b.min !== undefined && b.max !== undefined) return ` of ${b.min} to ${b.max} ${unit}`;
  if (b.min !== undefined) return ` of at least ${b.min} ${unit}`;
  if (b.max !== undefined) return ` of at most ${b.max} ${unit}`;
  return '';
}

function describeString(schema: Schema): string {
  const def = schema._zod.def as { format?: string; protocol?: RegExp };
  if (def.format === 'url') {
    const schemes = def.protocol ? ['http', 'https'].filter((s) => def.protocol!.test(s)) : [];
    return schemes.length ? `an ${schemes.join(' or ')} URL` : 'a URL';
  }
  if (def.format) return `a string in ${def.format} format`;
  return `a string${sizeOf(boundsOf(schema), 'characters')}`;
}

/** What `schema` accepts, in words ("a whole number from 0 to 600000"), or null when it takes anything. */
export function describeAccepted(schema: Schema | undefined): string | null {
  if (!schema) return null;
  const words = acceptedWords.get(schema)?.accepts;
  if (words) return words;
  const def = schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
  switch (def.type) {
    case 'number': {
      const b = boundsOf(schema);
      return `${b.int ? 'a whole number' : 'a number'}${span(b)}`;
    }
    case 'string':
      return describeString(schema);
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of: ${Object.values(def.entries as Record<string, unknown>).join(', ')}`;
    case 'literal':
      return (def.values as unknown[]).map((v) => JSON.stringify(v)).join(' or ');
    case 'array':
      return `a list${sizeOf(boundsOf(schema), 'items')}`;
    case 'object':
      return 'an object';
    case 'record': {
      const each = describeAccepted(def.valueType as Schema);
      return each ? `an object whose every value is ${each}` : 'an object';
    }
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return describeAccepted(def.innerType as Schema);
    case 'pipe':
      return describeAccepted(def.in as Schema);
    default:
      return null;
  }
}

/** A check (`.min()`, `.int()`) is not a schema: its issues name their schema in `schema`. */
const schemaOrNone = (inst: unknown) => {
  const zod = (inst as Schema | undefined)?._zod;
  return zod && !('check' in zod.def) ? (inst as Schema) : undefined;
};

const quoted = (keys: readonly PropertyKey[]) => keys.map((k) => `"${String(k)}"`).join(', ');

function unknownFields(iss: Issue, name: string): string {
  const keys = (iss as { keys?: string[] }).keys ?? [];
  const shape = (iss.inst as Schema | undefined)?._zod.def as { shape?: Record<string, unknown> } | undefined;
  const known = Object.keys(shape?.shape ?? {});
  const fields = known.length ? `its fields are ${known.join(', ')}` : 'it has no fields';
  return `${name} has no field${keys.length > 1 ? 's' : ''} ${quoted(keys)} (${fields})`;
}

/**
 * A zod error map (pass it as `safeParse(value, { error })`) whose messages name the
 * field by its full path and say what it takes: "data is required",
 * "data.ms must be a whole number from 0 to 600000", "options has no field "dealy" (its
 * fields are …)". `prefix` is where the parsed value sits in the request (`['data']`
 * when a job's input is parsed on its own, `['jobs', 3]` for a batch item); with no
 * prefix the value is the request body.
 */
export function plainErrors(prefix: readonly PropertyKey[] = []): z.core.$ZodErrorMap {
  return (raw) => {
    const iss = raw as Issue;
    const path = [...prefix, ...(iss.path ?? [])];
    const name = path.length ? path.map(String).join('.') : 'the body';
    if (iss.code === 'unrecognized_keys') return unknownFields(iss, name);
    // A field name its record refuses: what the name's own schema says of it (its own message, if it has one).
    if (iss.code === 'invalid_key') {
      const why = (iss as { issues?: { message?: string }[] }).issues?.find((i) => i.message)?.message;
      return `${name}: the field name is refused${why ? `: ${why}` : ''}`;
    }
    const accepts = describeAccepted(iss.schema ?? schemaOrNone(iss.inst));
    if (iss.code === 'invalid_type' && iss.input === undefined) return accepts ? `${name} is required: ${accepts}` : `${name} is required`;
    return accepts ? `${name} must be ${accepts}` : `${name} is not valid`;
  };
}
