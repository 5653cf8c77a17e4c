import type { jobDefinitions } from '@async-jobs/shared';
import type { z } from 'zod';
import type { JobHandler } from './handler';

type EchoInput = z.output<typeof jobDefinitions.echo.input>;

export const echo: JobHandler<EchoInput, EchoInput> = {
  name: 'echo',
  run: (data) => data,
};
