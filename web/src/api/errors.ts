// Turns GraphQL and network errors into sentences people can act on.

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'QUOTA_EXCEEDED'
  | 'INSUFFICIENT_STORAGE'
  | 'INTERNAL_SERVER_ERROR'
  | 'NETWORK'
  | 'UNKNOWN';

export interface FriendlyError {
  code: ErrorCode;
  /** What happened. */
  message: string;
  /** What to do next. */
  nextStep: string;
  /** The input field at fault (BAD_USER_INPUT). */
  field?: string;
  retryAfter?: number;
  requestId?: string;
}

export interface GraphQLErrorLike {
  message: string;
  extensions?: Record<string, unknown> | null;
}

/** What the user was doing, to word UNAUTHENTICATED and NOT_FOUND better. */
export type ErrorContext = 'login' | 'signup' | 'default';

const FIELD_LABELS: Record<string, string> = {
  email: 'email address',
  username: 'username',
  password: 'password',
  currentPassword: 'current password',
  newPassword: 'new password',
  newEmail: 'new email address',
  token: 'link',
  subscriptionTier: 'tier',
  storageQuotaGb: 'quota',
  isActive: 'account status',
  fullName: 'full name',
  login: 'email or username',
  path: 'folder',
  rootPath: 'folder',
  name: 'name',
  category: 'category',
  extensions: 'extensions',
  nameGlob: 'name pattern',
  mimePrefix: 'content type',
  minSizeBytes: 'minimum size',
  maxSizeBytes: 'maximum size',
  priority: 'priority',
  destinationTemplate: 'destination template',
  exclude: 'exclude patterns',
  protectedPaths: 'protected paths',
  expiresAt: 'expiry date',
  files: 'files',
};

/** The input name at the end of a dotted path like `input.password`. */
export function fieldKey(field: string | undefined): string | undefined {
  if (!field) return undefined;
  const parts = field.split('.');
  return parts[parts.length - 1];
}

export function fieldLabel(field: string): string {
  const key = fieldKey(field) ?? field;
  return FIELD_LABELS[key] ?? key;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function describeGraphQLError(error: GraphQLErrorLike, context: ErrorContext = 'default'): FriendlyError {
  const ext = error.extensions ?? {};
  const code = typeof ext.code === 'string' ? ext.code : 'UNKNOWN';
  const serverMessage = capitalize(error.message?.trim() || 'Something went wrong');
  switch (code) {
    case 'UNAUTHENTICATED':
      if (context === 'login') {
        return {
          code,
          message: 'That email or username and password do not match an account.',
          nextStep: 'Check them and try again, or create an account.',
        };
      }
      return {
        code,
        message: 'You are not signed in, or your session has ended.',
        nextStep: 'Sign in again.',
      };
    case 'FORBIDDEN':
      return {
        code,
        message: serverMessage,
        nextStep: 'This action is not allowed for your account. Contact the administrator if you think this is wrong.',
      };
    case 'NOT_FOUND':
      return {
        code,
        message: 'That item does not exist (any more).',
        nextStep: 'Reload the list: it may have been deleted or moved.',
      };
    case 'BAD_USER_INPUT': {
      const field = typeof ext.field === 'string' ? ext.field : undefined;
      return {
        code,
        message: serverMessage,
        nextStep: field ? `Correct the ${fieldLabel(field)} and try again.` : 'Correct the input and try again.',
        field: fieldKey(field),
      };
    }
    case 'CONFLICT':
      return {
        code,
        message: serverMessage,
        nextStep: 'Reload to see the current state, then try again if it still applies.',
      };
    case 'RATE_LIMITED': {
      const retryAfter = typeof ext.retryAfter === 'number' ? ext.retryAfter : undefined;
      return {
        code,
        message: 'Too many attempts in a short time.',
        nextStep: retryAfter ? `Try again in ${plural(retryAfter, 'second')}.` : 'Wait a minute and try again.',
        retryAfter,
      };
    }
    case 'QUOTA_EXCEEDED':
      return {
        code,
        message: `Your storage is full: ${lowerFirst(serverMessage)}`,
        nextStep: 'Free space (delete files, or purge the trash of a duplicate cleanup), or upload fewer files.',
      };
    case 'INSUFFICIENT_STORAGE':
      return {
        code,
        message: 'The server is out of storage space, so nothing was changed.',
        nextStep: 'Try again later; if it keeps happening, tell whoever runs this server.',
      };
    case 'INTERNAL_SERVER_ERROR': {
      const requestId = typeof ext.requestId === 'string' ? ext.requestId : undefined;
      return {
        code,
        message: 'Something went wrong on the server.',
        nextStep: requestId
          ? `Try again. If it keeps happening, report request id ${requestId}.`
          : 'Try again. If it keeps happening, report it.',
        requestId,
      };
    }
    default:
      return { code: 'UNKNOWN', message: serverMessage, nextStep: 'Try again.' };
  }
}

export const NETWORK_ERROR: FriendlyError = {
  code: 'NETWORK',
  message: 'The server cannot be reached.',
  nextStep: 'Check your connection. We retry automatically; you can also try again now.',
};

/** Anything with urql's CombinedError shape (or a plain Error). */
export interface ErrorLike {
  networkError?: Error | unknown;
  graphQLErrors?: readonly GraphQLErrorLike[];
  message?: string;
}

export function describeErrors(error: ErrorLike | null | undefined, context: ErrorContext = 'default'): FriendlyError[] {
  if (!error) return [];
  if (error.graphQLErrors && error.graphQLErrors.length > 0) {
    const seen = new Set<string>();
    return error.graphQLErrors
      .map((e) => describeGraphQLError(e, context))
      .filter((f) => {
        const key = `${f.code}|${f.message}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
  }
  if (error.networkError) return [NETWORK_ERROR];
  return [{ code: 'UNKNOWN', message: capitalize(error.message || 'Something went wrong.'), nextStep: 'Try again.' }];
}

export function firstErrorCode(error: ErrorLike | null | undefined): ErrorCode | null {
  const [first] = describeErrors(error);
  return first?.code ?? null;
}

/** Field → message, for showing BAD_USER_INPUT next to the input. */
export function fieldErrors(errors: FriendlyError[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of errors) if (e.field) out[e.field] = e.message;
  return out;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** The errors not shown beside one of the given inputs. */
export function otherErrors(errors: FriendlyError[], shownFields: string[]): FriendlyError[] {
  return errors.filter((e) => !e.field || !shownFields.includes(e.field));
}
