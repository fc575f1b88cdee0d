import { describe, expect, it } from '@jest/globals';
import { passwordProblem } from './password-policy.js';

const owner = { email: 'alice.smith@example.com', phone: '+818012345209' };

describe(passwordProblem.name, () => {
  it.each([
    'correct horse battery staple',
    'Tr0ub4dor&3-but-longer',
    'ーパスワードの長い文',
    'x'.repeat(128),
  ])('accepts %j (no composition rules)', (password) => {
    expect(passwordProblem(password, owner)).toBeUndefined();
  });

  it.each([
    ['too short', 'abc1234', /at least 8/],
    ['too long', 'x'.repeat(129), /at most 128/],
    ['a common password', 'password123', /too common/],
    ['a common password in capitals', 'QWERTYUIOP', /too common/],
    ['a breached favourite', 'iloveyou', /too common/],
    ['the email name', 'my-alice.smith-pass', /email/],
    ['the email name in capitals', 'ALICE.SMITH2024!', /email/],
    ['the last 8 digits of the phone', 'code-12345209-x', /phone/],
    ['the phone with separators', 'call 8012 345 209 now', /phone/],
  ])('refuses %s', (_label, password, message) => {
    expect(passwordProblem(password, owner)).toMatch(message);
    expect(passwordProblem(password, owner)).toMatch(/^password /);
  });

  it('ignores an email name shorter than 4 characters', () => {
    expect(passwordProblem('bob-is-my-name!', { email: 'bob@example.com' })).toBeUndefined();
  });
});
