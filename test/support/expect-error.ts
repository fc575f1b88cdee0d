import { expect } from '@jest/globals';
import type { HttpResult } from './test-app.js';
import { secondsLeftInWindow } from './windows.js';

/** The answer's status and its body's `code`, compared together so that a failure shows both. */
export function expectStatusAndCode(res: HttpResult, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
}

/** An error answer: this status and code, and a body whose `statusCode` repeats the status. */
export function expectError(res: HttpResult, status: number, code: string): void {
  expectStatusAndCode(res, status, code);
  expect(res.body.statusCode).toBe(status);
}

/**
 * 429 TOO_MANY_REQUESTS with a `Retry-After` header equal to the body's `retryAfter`; with `windowSeconds`,
 * Retry-After is the time left in the current window of that length.
 */
export function expectTooMany(res: HttpResult, windowSeconds?: number): number {
  expectError(res, 429, 'TOO_MANY_REQUESTS');
  const header = res.headers.get('retry-after');
  expect(header).toMatch(/^[1-9][0-9]*$/);
  const retryAfter = Number(header);
  expect(res.body.retryAfter).toBe(retryAfter);
  expect(res.body.accessToken).toBeUndefined();
  if (windowSeconds !== undefined) {
    expect(Math.abs(retryAfter - secondsLeftInWindow(windowSeconds))).toBeLessThanOrEqual(2);
  }
  return retryAfter;
}
