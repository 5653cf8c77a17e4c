type Schema = Record<string, unknown>;

/** Keywords whose value is a schema, an array of schemas, or a map of schemas. */
const ONE = ['items', 'additionalProperties', 'not', 'contains', 'propertyNames', 'if', 'then', 'else', 'contentSchema'];
const MANY = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const MAP = ['properties', 'patternProperties', '$defs', 'dependentSchemas'];

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Moves each `default` of a JSON Schema into its description ("Default: `3`."), in place.
 *
 * Why: openapi-typescript, with its default settings, types every property that has a
 * `default` as required, unless the schema sits inline in a request body. Our request
 * schemas are named components, so `options.attempts` or `data.rounds` would be required
 * of every caller although the API fills them in. The words keep the information for people
 * (Swagger UI shows the description); GET /types still serves the schemas with `default`.
 */
export function defaultsInWords(schema: unknown): void {
  if (!isSchema(schema)) return;
  if ('default' in schema) {
    const said = `Default: \`${JSON.stringify(schema.default)}\`.`;
    schema.description = typeof schema.description === 'string' ? `${schema.description} ${said}` : said;
    delete schema.default;
  }
  for (const k of ONE) defaultsInWords(schema[k]);
  for (const k of MANY) if (Array.isArray(schema[k])) for (const s of schema[k]) defaultsInWords(s);
  for (const k of MAP) if (isSchema(schema[k])) for (const s of Object.values(schema[k])) defaultsInWords(s);
}
