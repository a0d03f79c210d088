// The server's sign-up rules, checked in the browser first so that every bad field is
// shown at once (the server still checks, and answers one field at a time). The same
// rules apply when a profile, a password or an address changes (see accountChecks.ts).
import type { FriendlyError } from '../api/errors';

export interface SignupForm {
  email: string;
  username: string;
  password: string;
  fullName: string;
}

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

export const bad = (field: string, message: string): FriendlyError => ({ code: 'BAD_USER_INPUT', field, message, nextStep: 'Correct it and try again.' });

export function isEmailAddress(value: string): boolean {
  const email = value.trim();
  return email.length <= 254 && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email);
}

export function isUsername(value: string): boolean {
  return /^[A-Za-z0-9_-]{3,32}$/.test(value.trim());
}

/** 8 to 128 characters (counted as the server does: code points, not UTF-16 units). */
export function isPasswordLength(value: string): boolean {
  const length = [...value].length;
  return length >= PASSWORD_MIN && length <= PASSWORD_MAX;
}

export function isFullName(value: string): boolean {
  const fullName = value.trim();
  // eslint-disable-next-line no-control-regex
  return [...fullName].length <= 200 && !/[\u0000-\u001f\u007f]/.test(fullName);
}

export const USERNAME_RULE = "Username must be 3 to 32 characters: letters, digits, '_' or '-'.";
export const FULL_NAME_RULE = 'Full name must be at most 200 printable characters.';

export function signupProblems(form: SignupForm): FriendlyError[] {
  const problems: FriendlyError[] = [];
  if (!isEmailAddress(form.email)) problems.push(bad('email', 'Email is not a valid address.'));
  if (!isUsername(form.username)) problems.push(bad('username', USERNAME_RULE));
  if (!isPasswordLength(form.password)) problems.push(bad('password', 'Password must be 8 to 128 characters.'));
  if (!isFullName(form.fullName)) problems.push(bad('fullName', FULL_NAME_RULE));
  return problems;
}
