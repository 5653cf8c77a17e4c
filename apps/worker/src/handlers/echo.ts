import type { jobDefinitions } from '@async-jobs/shared';
import type { z } from 'zod';
import type { JobHandler } from './handler';

type EchoInput = z.output<typeof jobDefinitions.echo.input>;
type EchoResult = z.output<typeof jobDefinitions.echo.result>;

export const echo: JobHandler<EchoInput, EchoResult> = {
  name: 'echo',
  run: (data) => data,
};
