export { createClient, type AsyncJobsClient, type ClientOptions } from './client';
export { AsyncJobsError, type ErrorDetail } from './errors';
export { verifyCallbackSignature } from './verify';
export type * from './types';
