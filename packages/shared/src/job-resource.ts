import type { JobRecord } from './results-store';

/** The job resource of docs/http-api.md: the record plus links. */
export function toJobResource(r: JobRecord) {
  const self = `/jobs/${encodeURIComponent(r.id)}`;
  return {
    ...r,
    links: { self, result: `${self}/result`, events: `${self}/events` },
  };
}

export type JobResource = ReturnType<typeof toJobResource>;
