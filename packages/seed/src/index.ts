export * from './bounded-queue';
export * from './kitchen/run-kitchen';
export * from './kitchen/parse-args';
export * from './listeners/index';
export * from './routes';
