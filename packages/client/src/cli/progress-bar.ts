const WIDTH = 30;

/**
 * One line for a terminal, redrawn in place: `[#########.....................]  30%  active`.
 * Progress a handler reported as an object is shown as its JSON, cut to fit.
 */
export function progressLine(state: string, progress: unknown, columns?: number): string {
  let line: string;
  if (typeof progress === 'number') {
    const pct = Math.max(0, Math.min(100, progress));
    const filled = Math.round((pct / 100) * WIDTH);
    line = `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(Math.round(pct)).padStart(3)}%  ${state}`;
  } else {
    const shown = progress === undefined || progress === null ? '' : `  ${JSON.stringify(progress)}`;
    line = `${state}${shown}`;
  }
  // Longer than the terminal is wide, the line would wrap and \r could not redraw it.
  // A terminal that does not say its width (0, or none) is taken to be 80 wide.
  return `\r\x1b[2K${line.slice(0, Math.max(10, (columns || 80) - 1))}`;
}
