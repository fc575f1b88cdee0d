import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { login, verify } from '../support/auth-api.js';
import { eventsOf, userIdByEmail } from '../support/db.js';
import { expectError } from '../support/expect-error.js';
import { closeApp, registerAndVerify, startTestApp, TestApp } from '../support/test-app.js';

/** The consecutive wrong-PIN cap holds under parallel verifies: one PIN check per account at a time. */
describe('the consecutive wrong-PIN cap holds under parallel verifies (PIN_CONSECUTIVE_FAILURE_LIMIT=3, PIN_MAX_ATTEMPTS=10)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { PIN_CONSECUTIVE_FAILURE_LIMIT: '3', PIN_MAX_ATTEMPTS: '10' } });
  });
  afterAll(async () => closeApp(t));

  const others = (pin: string, n: number) =>
    Array.from({ length: n }, (_, i) => String((Number(pin) + 1 + i) % 1e6).padStart(6, '0'));

  it('checks at most 3 of 9 parallel wrong PINs; the rest are 429 SECOND_FACTOR_LOCKED', async () => {
    for (let round = 0; round < 3; round++) {
      const { identity } = await registerAndVerify(t);
      const res = await login(t, identity);
      const pins = others(t.xoxzo.lastPinFor(identity.phone), 9);
      const answers = await Promise.all(pins.map((p) => verify(t, res.body.accessToken, p)));
      expect(answers.filter((a) => a.body.code === 'PIN_INVALID')).toHaveLength(3);
      expect(answers.filter((a) => a.body.code === 'SECOND_FACTOR_LOCKED')).toHaveLength(6);
    }
  });

  it('never accepts a PIN once the cap is reached, even one sent in the same burst', async () => {
    for (let round = 0; round < 3; round++) {
      const { identity } = await registerAndVerify(t);
      const res = await login(t, identity);
      const pin = t.xoxzo.lastPinFor(identity.phone);
      const pins = [...others(pin, 9), pin];
      const answers = await Promise.all(pins.map((p) => verify(t, res.body.accessToken, p)));
      const right = answers[9];
      const wrongChecked = answers.slice(0, 9).filter((a) => a.body.code === 'PIN_INVALID').length;
      // Either the right PIN came before the cap (then at most 2 wrong ones were checked before it), or it is refused.
      if (right.status === 200) expect(wrongChecked).toBeLessThanOrEqual(2);
      else expectError(right, 429, 'SECOND_FACTOR_LOCKED');
      const userId = await userIdByEmail(t, identity.email);
      if (await eventsOf(t, userId, 'second_factor_locked')) {
        expect(right.status).not.toBe(200);
      }
    }
  });
});
