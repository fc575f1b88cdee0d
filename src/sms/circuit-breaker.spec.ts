import { describe, expect, it } from '@jest/globals';
import { CircuitBreaker, CircuitState } from './circuit-breaker.js';

function breaker(threshold = 3, cooldownMs = 30_000) {
  let now = 1_000_000;
  const changes: string[] = [];
  const b = new CircuitBreaker(
    { threshold, cooldownMs },
    () => now,
    (state: CircuitState, previous: CircuitState) => changes.push(`${previous}→${state}`),
  );
  return { b, changes, advance: (ms: number) => (now += ms) };
}

describe(CircuitBreaker.name, () => {
  it('stays closed below the threshold, and a success resets the count', () => {
    const { b } = breaker(3);
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    expect(b.tryAcquire()).toBe(true);
  });

  it('opens after `threshold` consecutive failures and refuses calls during the cooldown', () => {
    const { b, changes, advance } = breaker(3, 30_000);
    for (let i = 0; i < 3; i += 1) b.failure();
    expect(b.state).toBe('open');
    expect(changes).toEqual(['closed→open']);
    expect(b.tryAcquire()).toBe(false);
    advance(29_999);
    expect(b.tryAcquire()).toBe(false);
    expect(b.retryAt).toBeDefined();
  });

  it('half-opens after the cooldown and lets exactly one trial through', () => {
    const { b, advance } = breaker(1, 10_000);
    b.failure();
    advance(10_000);
    expect(b.state).toBe('half_open');
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false);
    expect(b.tryAcquire()).toBe(false);
  });

  it('a successful trial closes it', () => {
    const { b, changes, advance } = breaker(2, 10_000);
    b.failure();
    b.failure();
    advance(10_000);
    expect(b.tryAcquire()).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
    expect(changes).toEqual(['closed→open', 'half_open→closed']);
    // Closed again means a full threshold of failures is needed to re-open.
    b.failure();
    expect(b.state).toBe('closed');
  });

  it('a failed trial re-opens it for a whole new cooldown', () => {
    const { b, changes, advance } = breaker(2, 10_000);
    b.failure();
    b.failure();
    advance(10_000);
    expect(b.tryAcquire()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    expect(changes).toEqual(['closed→open', 'half_open→open']);
    advance(9_999);
    expect(b.tryAcquire()).toBe(false);
    advance(1);
    expect(b.tryAcquire()).toBe(true);
  });
});
