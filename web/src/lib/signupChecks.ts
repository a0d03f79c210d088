// The server's sign-up rules, checked in the browser first so that every bad field is
// shown at once (the server still checks, and answers one field at a time).
import type { FriendlyError } from '../api/errors';

export interface SignupForm {
  email: string;
  username: string;
  password: string;
  fullName: string;
}

const bad = (field: string, message: string): FriendlyError => ({ code: 'BAD_USER_INPUT', field, message, nextStep: 'Correct it and try again.' });

export function signupProblems(form: SignupForm): FriendlyError[] {
  const problems: FriendlyError[] = [];
  const email = form.email.trim();
  if (email.length > 254 || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) problems.push(bad('email', 'Email is not a valid address.'));
  if (!/^[A-Za-z0-9_-]{3,32}$/.test(form.username.trim())) {
    problems.push(bad('username', "Username must be 3 to 32 characters: letters, digits, '_' or '-'."));
  }
  const length = [...form.password].length;
  if (length < 8 || length > 128) problems.push(bad('password', 'Password must be 8 to 128 characters.'));
  const fullName = form.fullName.trim();
  // eslint-disable-next-line no-control-regex
  if ([...fullName].length > 200 || /[\u0000-\u001f\u007f]/.test(fullName)) {
    problems.push(bad('fullName', 'Full name must be at most 200 printable characters.'));
  }
  return problems;
}
