import { describe, expect, it } from 'vitest';
import {
  changePasswordProblems,
  deleteAccountProblems,
  emailChangeProblems,
  firstFieldInError,
  forgotPasswordProblems,
  newPasswordProblems,
  parseQuotaGb,
  profileChanges,
  profileProblems,
} from './accountChecks';
import { formatDate, tierLabel } from './format';
import { signupProblems } from './signupChecks';

const fields = (problems: { field?: string }[]) => problems.map((p) => p.field);

describe('new password typed twice', () => {
  it('wants 8 to 128 characters, counted as code points', () => {
    expect(fields(newPasswordProblems('short', 'short'))).toEqual(['newPassword']);
    expect(newPasswordProblems('12345678', '12345678')).toEqual([]);
    expect(newPasswordProblems('x'.repeat(128), 'x'.repeat(128))).toEqual([]);
    expect(fields(newPasswordProblems('x'.repeat(129), 'x'.repeat(129)))).toEqual(['newPassword']);
    // 8 emoji are 16 UTF-16 units but 8 characters: fine; 4 are too few.
    expect(newPasswordProblems('🔑'.repeat(8), '🔑'.repeat(8))).toEqual([]);
    expect(fields(newPasswordProblems('🔑'.repeat(4), '🔑'.repeat(4)))).toEqual(['newPassword']);
  });
  it('wants the same password twice', () => {
    const problems = newPasswordProblems('correct horse', 'correct hose');
    expect(fields(problems)).toEqual(['repeatPassword']);
    expect(problems[0].message).toMatch(/not the same/);
  });
});

describe('change password', () => {
  it('needs the current password, a valid new one, typed twice', () => {
    expect(fields(changePasswordProblems({ currentPassword: '', newPassword: 'short', repeatPassword: 'short' }))).toEqual([
      'currentPassword',
      'newPassword',
    ]);
    expect(fields(changePasswordProblems({ currentPassword: 'old password', newPassword: 'new password', repeatPassword: 'new passw0rd' }))).toEqual([
      'repeatPassword',
    ]);
    expect(changePasswordProblems({ currentPassword: 'old password', newPassword: 'new password', repeatPassword: 'new password' })).toEqual([]);
  });
  it('refuses the same password as the new one', () => {
    expect(fields(changePasswordProblems({ currentPassword: 'same password', newPassword: 'same password', repeatPassword: 'same password' }))).toEqual([
      'newPassword',
    ]);
  });
});

describe('profile', () => {
  it('checks the username and the full name like sign-up', () => {
    expect(profileProblems({ fullName: '', username: 'erin_e' })).toEqual([]);
    expect(fields(profileProblems({ fullName: 'x'.repeat(201), username: 'a' }))).toEqual(['fullName', 'username']);
    expect(fields(profileProblems({ fullName: 'tab\there', username: 'has space' }))).toEqual(['fullName', 'username']);
  });
  it('sends only what changed; an emptied name clears it', () => {
    const current = { fullName: 'Erin Example', username: 'erin' };
    expect(profileChanges({ fullName: 'Erin Example', username: 'erin' }, current)).toEqual({});
    expect(profileChanges({ fullName: '  ', username: 'erin' }, current)).toEqual({ fullName: null });
    expect(profileChanges({ fullName: ' Erin E. ', username: 'erin_e' }, current)).toEqual({ fullName: 'Erin E.', username: 'erin_e' });
    // Usernames are lower-cased by the server: a case change alone is no change.
    expect(profileChanges({ fullName: 'Erin Example', username: 'Erin' }, current)).toEqual({});
    expect(profileChanges({ fullName: 'New', username: 'erin' }, { fullName: null, username: 'erin' })).toEqual({ fullName: 'New' });
  });
});

describe('email change', () => {
  it('needs a valid, different address and the password', () => {
    expect(emailChangeProblems({ newEmail: 'new@example.com', password: 'pw' }, 'old@example.com')).toEqual([]);
    expect(fields(emailChangeProblems({ newEmail: 'nope', password: '' }, 'old@example.com'))).toEqual(['newEmail', 'password']);
    const same = emailChangeProblems({ newEmail: ' OLD@example.com ', password: 'pw' }, 'old@example.com');
    expect(fields(same)).toEqual(['newEmail']);
    expect(same[0].message).toMatch(/already your address/);
  });
  it('asks for a reset link only with a valid address', () => {
    expect(forgotPasswordProblems('someone@example.com')).toEqual([]);
    expect(fields(forgotPasswordProblems('someone'))).toEqual(['email']);
  });
});

describe('delete account', () => {
  it('needs the username typed exactly, and the password', () => {
    expect(deleteAccountProblems({ confirmUsername: 'erin', password: 'pw' }, 'erin')).toEqual([]);
    expect(fields(deleteAccountProblems({ confirmUsername: 'Erin', password: 'pw' }, 'erin'))).toEqual(['confirmUsername']);
    expect(fields(deleteAccountProblems({ confirmUsername: 'erin ', password: '' }, 'erin'))).toEqual(['confirmUsername', 'password']);
    expect(deleteAccountProblems({ confirmUsername: '', password: 'pw' }, 'erin')[0].message).toContain('erin');
  });
});

describe('administration', () => {
  it('reads a quota as whole GB from 0 to 1,000,000', () => {
    expect(parseQuotaGb('0')).toBe(0);
    expect(parseQuotaGb(' 250 ')).toBe(250);
    expect(parseQuotaGb('1000000')).toBe(1_000_000);
    expect(parseQuotaGb('1000001')).toBeNull();
    expect(parseQuotaGb('-1')).toBeNull();
    expect(parseQuotaGb('1.5')).toBeNull();
    expect(parseQuotaGb('1e3')).toBeNull();
    expect(parseQuotaGb('')).toBeNull();
  });
  it('names tiers and dates', () => {
    expect(tierLabel('PRO')).toBe('Pro');
    expect(tierLabel('SOMETHING_NEW')).toBe('SOMETHING_NEW');
    expect(formatDate(null)).toBe('—');
    expect(formatDate('not a date')).toBe('—');
    expect(formatDate('2024-03-05T10:00:00Z')).toMatch(/2024/);
  });
});

describe('focus after a failed submit', () => {
  it('goes to the first field in error, in form order', () => {
    const problems = signupProblems({ email: 'x', username: 'a', password: 'short', fullName: '' });
    expect(firstFieldInError(['fullName', 'email', 'username', 'password'], problems)).toBe('email');
    expect(firstFieldInError(['password', 'email'], problems)).toBe('password');
    expect(firstFieldInError(['fullName'], problems)).toBeUndefined();
  });
});
