// ejs 6 ships no types; this is the one call admin-fonts.ts makes (the engine Bull Board itself uses).
declare module 'ejs' {
  export function renderFile(path: string, data: object, done: (err: Error | null, html?: string) => void): void;
  const ejs: { renderFile: typeof renderFile };
  export default ejs;
}
