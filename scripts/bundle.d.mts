// Types of scripts/bundle.mjs, which is plain JavaScript so that it runs before anything is built.
export declare const BUNDLES: { api: string; worker: string };
export declare const NODE_FLAGS: { api: string[]; worker: string[] };
export declare function bundle(): Promise<void>;
export declare const CLIENT_BUNDLES: { lib: string; cli: string };
export declare function bundleClient(): Promise<void>;
