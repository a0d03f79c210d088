import { useState } from 'react';
import { useMutation } from 'urql';
import { RequestEmailVerificationMutation } from '../api/documents';
import { describeErrors, type FriendlyError } from '../api/errors';
import { useAuth } from '../features/auth/AuthContext';

/** For an account whose address is not confirmed yet: a button that mails the link. */
export function VerifyBanner() {
  const { user, reloadUser } = useAuth();
  const [state, request] = useMutation(RequestEmailVerificationMutation);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [errors, setErrors] = useState<FriendlyError[]>([]);
  if (!user || user.emailVerified) return null;

  const send = async () => {
    setErrors([]);
    const res = await request({});
    setErrors(describeErrors(res.error));
    if (res.data?.requestEmailVerification === false) reloadUser(); // confirmed meanwhile
    else if (res.data) setSentTo(user.email);
  };

  const sent = sentTo === user.email;
  return (
    <section className="banner banner-info verify-banner" aria-labelledby="verify-banner-title">
      <p className="banner-text" aria-live="polite">
        <strong id="verify-banner-title">Confirm your email address</strong>{' '}
        {sent ? (
          <span>
            — a link is on its way to <span className="nowrap">{user.email}</span>: open it to confirm. Nothing after a few minutes? Look
            in the spam folder, or send it again.
          </span>
        ) : (
          <span>
            so that you can get back into your account if you forget your password. We mail a link to{' '}
            <span className="nowrap">{user.email}</span>.
          </span>
        )}
        {errors.length > 0 && (
          <span className="banner-error" role="alert">
            {' '}
            {errors.map((e) => `${e.message} ${e.nextStep}`).join(' ')}
          </span>
        )}
      </p>
      <button type="button" className="btn btn-small" onClick={() => void send()} disabled={state.fetching}>
        {state.fetching ? 'Sending…' : sent ? 'Send it again' : 'Send the link'}
      </button>
    </section>
  );
}
