// The allowlist is shared with the API, which checks callback URLs with it at submit time.
export { createHostAllowlist, effectivePort, hostLabel, type HostAllowlist } from '@async-jobs/shared';
