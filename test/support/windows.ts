/**
 * Time for the limit tests: limits count in fixed windows aligned to the clock (minute, quarter hour, hour,
 * UTC day), the way the limit store computes them.
 */

export const MINUTE = 60;
export const QUARTER_HOUR = 900;
export const HOUR = 3600;
export const DAY = 86400;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Seconds until the current clock-aligned window of this length ends (as the limit store computes it). */
export function secondsLeftInWindow(windowSeconds: number, now = Date.now()): number {
  const windowMs = windowSeconds * 1000;
  return Math.ceil(((Math.floor(now / windowMs) + 1) * windowMs - now) / 1000);
}

/**
 * Limits count in fixed windows aligned to the clock (minute, quarter hour, hour, UTC day). A test that
 * fills a window must not straddle its end: if it is close, wait for the next window to begin.
 */
export async function awayFromWindowEnd(windowSeconds: number, marginMs = 6000): Promise<void> {
  const windowMs = windowSeconds * 1000;
  const left = windowMs - (Date.now() % windowMs);
  if (left < marginMs) await sleep(left + 250);
}
