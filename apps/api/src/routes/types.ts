import { jobTypes } from '@async-jobs/shared';
import type { Request, Response } from 'express';
import { z } from 'zod';

/** Computed once: the schemas do not change while the process runs. */
const body = {
  types: [...jobTypes.values()].map((t) => ({
    name: t.name,
    description: t.description,
    input: z.toJSONSchema(t.input, { io: 'input', unrepresentable: 'any' }),
  })),
};

export const typeRoutes = {
  list(_req: Request, res: Response) {
    res.json(body);
  },
};
