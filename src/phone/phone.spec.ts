import { describe, expect, it } from '@jest/globals';
import { maskPhone, toE164 } from './phone.js';

describe(toE164.name, () => {
  it.each([
    ['+818012345678', '+818012345678'],
    ['+81 80-1234-5678', '+818012345678'],
    ['  +81 80 1234 5678  ', '+818012345678'],
    ['+1 415 555 2671', '+14155552671'],
    ['+1 (201) 555-0123', '+12015550123'],
    ['+44 7911 123456', '+447911123456'],
  ])('accepts %j as %s', (input, e164) => {
    expect(toE164(input)).toBe(e164);
  });

  it.each([
    ['a local number without country code', '08012345678'],
    ['a Japanese number that kept its trunk 0', '+8108012345678'],
    ['an unassigned country code', '+999123'],
    ['letters', '+81 80 CALL ME'],
    ['only letters', 'phone'],
    ['an empty string', ''],
    ['a lone +', '+'],
    ['a number too short for its country', '+8180123'],
    ['a number too long for its country', '+8180123456789'],
    ['a 00 international prefix', '00818012345678'],
  ])('rejects %s (%j)', (_label, input) => {
    expect(toE164(input)).toBeUndefined();
  });
});

describe(maskPhone.name, () => {
  it('keeps the country code and the last 4 digits of a Japanese number', () => {
    expect(maskPhone('+818012345209')).toBe('+81******5209');
  });

  it('keeps +1 and the last 4 digits of a US number', () => {
    expect(maskPhone('+14155552671')).toBe('+1******2671');
  });

  it('hides every digit but the last 4 of the national number', () => {
    const masked = maskPhone('+447911123456');
    expect(masked).toBe('+44******3456');
    expect(masked).toHaveLength('+447911123456'.length);
  });
});

describe('numbers that cannot take an SMS (toll-fraud ranges)', () => {
  it.each([
    ['+19005551234', 'US premium rate'],
    ['+18005550199', 'US toll-free'],
    ['+449098790000', 'GB premium rate'],
    ['+81570012345', 'JP UAN'],
  ])('refuses %s (%s)', (number) => {
    expect(toE164(number)).toBeUndefined();
  });
});
