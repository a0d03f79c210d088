// Checks of the account forms (settings, password reset, administration) made in the
// browser before anything is sent, so that every bad field is shown at once. The server
// checks again; these only follow its rules.
import type { FriendlyError } from '../api/errors';
import { bad, FULL_NAME_RULE, isEmailAddress, isFullName, isPasswordLength, isUsername, USERNAME_RULE } from './signupChecks';

export const NEW_PASSWORD_RULE = 'The new password must be 8 to 128 characters.';
export const PASSWORDS_DIFFER = 'The two passwords are not the same: type the new one twice.';

/** A new password typed twice (reset and change): 8 to 128 characters, the same both times. */
export function newPasswordProblems(newPassword: string, repeat: string): FriendlyError[] {
  const problems: FriendlyError[] = [];
  if (!isPasswordLength(newPassword)) problems.push(bad('newPassword', NEW_PASSWORD_RULE));
  else if (newPassword !== repeat) problems.push(bad('repeatPassword', PASSWORDS_DIFFER));
  return problems;
}

export interface ChangePasswordForm {
  currentPassword: string;
  newPassword: string;
  repeatPassword: string;
}

export function changePasswordProblems(form: ChangePasswordForm): FriendlyError[] {
  const problems: FriendlyError[] = [];
  if (form.currentPassword === '') problems.push(bad('currentPassword', 'Enter your current password.'));
  problems.push(...newPasswordProblems(form.newPassword, form.repeatPassword));
  if (problems.length === 0 && form.newPassword === form.currentPassword) {
    problems.push(bad('newPassword', 'The new password is the same as the current one.'));
  }
  return problems;
}

export interface ProfileForm {
  fullName: string;
  username: string;
}

export function profileProblems(form: ProfileForm): FriendlyError[] {
  const problems: FriendlyError[] = [];
  if (!isFullName(form.fullName)) problems.push(bad('fullName', FULL_NAME_RULE));
  if (!isUsername(form.username)) problems.push(bad('username', USERNAME_RULE));
  return problems;
}

/** What updateProfile gets: only what changed (an emptied name is null, which clears it). */
export function profileChanges(form: ProfileForm, current: { fullName: string | null; username: string }): { fullName?: string | null; username?: string } {
  const changes: { fullName?: string | null; username?: string } = {};
  const fullName = form.fullName.trim() || null;
  if (fullName !== (current.fullName ?? null)) changes.fullName = fullName;
  const username = form.username.trim();
  if (username.toLowerCase() !== current.username.toLowerCase()) changes.username = username;
  return changes;
}

export interface EmailChangeForm {
  newEmail: string;
  password: string;
}

export function emailChangeProblems(form: EmailChangeForm, currentEmail: string): FriendlyError[] {
  const problems: FriendlyError[] = [];
  if (!isEmailAddress(form.newEmail)) problems.push(bad('newEmail', 'This is not a valid email address.'));
  else if (form.newEmail.trim().toLowerCase() === currentEmail.trim().toLowerCase()) {
    problems.push(bad('newEmail', 'This is already your address.'));
  }
  if (form.password === '') problems.push(bad('password', 'Enter your password to confirm the change.'));
  return problems;
}

export function forgotPasswordProblems(email: string): FriendlyError[] {
  return isEmailAddress(email) ? [] : [bad('email', 'This is not a valid email address.')];
}

export interface DeleteAccountForm {
  confirmUsername: string;
  password: string;
}

/** Deleting an account needs its username typed exactly (case and all) and the password. */
export function deleteAccountProblems(form: DeleteAccountForm, username: string): FriendlyError[] {
  const problems: FriendlyError[] = [];
  if (form.confirmUsername !== username) {
    problems.push(bad('confirmUsername', `Type your username, ${username}, exactly as shown.`));
  }
  if (form.password === '') problems.push(bad('password', 'Enter your password.'));
  return problems;
}

export const QUOTA_MAX_GB = 1_000_000;

/** A storage quota typed in GB: a whole number from 0 to 1,000,000, else null. */
export function parseQuotaGb(text: string): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) && n <= QUOTA_MAX_GB ? n : null;
}

/** The first of `order` that has an error: where focus goes after a failed submit. */
export function firstFieldInError(order: string[], errors: FriendlyError[]): string | undefined {
  return order.find((f) => errors.some((e) => e.field === f));
}
