/**
 * What the API and the worker tell scripts/start.mjs (`npm start`) over the IPC channel
 * it opens to them, so that it can print one line for a person once both are up.
 */
export type LauncherMessage = { event: 'api listening'; host: string; port: number } | { event: 'worker ready' };

/** Sends `message` to the launcher, if this process has one; a launcher that is gone is not an error. */
export function tellLauncher(message: LauncherMessage): void {
  if (process.send && process.connected) process.send(message, () => {});
}
