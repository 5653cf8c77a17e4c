export * from './batch';
export * from './error-body';
export * from './job-resource';
export * from './plain-errors';
export * from './queries';
export * from './submit-request';
export * from './flow';
