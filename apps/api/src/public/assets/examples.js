// A data example per job type for the form: hand-written for the built-in types,
// built from the JSON Schema (defaults, then required fields) for any other.

const builtIn = {
  echo: () => ({ hello: 'world', n: 42 }),
  sleep: () => ({ ms: 3000 }),
  hash: () => ({ text: 'hello', algorithm: 'sha256', rounds: 1000 }),
  // Only hosts in HTTP_ALLOWED_HOSTS may be called; this API itself is the nearest example.
  'http.request': () => ({ url: `${location.origin}/healthz`, method: 'GET' }),
};

export function exampleFor(type) {
  return builtIn[type.name]?.() ?? fromSchema(type.input) ?? {};
}

function fromSchema(s) {
  if (!s || typeof s !== 'object') return null;
  if ('default' in s) return s.default;
  if (s.examples?.length) return s.examples[0];
  if (s.enum?.length) return s.enum[0];
  switch (s.type) {
    case 'object': {
      const out = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) {
        if (s.required?.includes(k) || (v && 'default' in v)) out[k] = fromSchema(v);
      }
      return out;
    }
    case 'array':
      return [];
    case 'string':
      return '';
    case 'integer':
    case 'number':
      return s.minimum ?? 0;
    case 'boolean':
      return false;
    default:
      return null;
  }
}
