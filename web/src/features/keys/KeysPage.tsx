import { useId, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { ApiKeysQuery, CreateApiKeyMutation, RevokeApiKeyMutation } from './documents';
import { describeErrors, fieldErrors, type FriendlyError } from '../../api/errors';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useDocumentTitle, useRefetchOnReconnect } from '../../hooks';
import { formatDateTime } from '../../lib/format';

export function KeysPage() {
  useDocumentTitle('API keys');
  const [result, refetch] = useQuery({ query: ApiKeysQuery });
  useRefetchOnReconnect(() => refetch({ requestPolicy: 'network-only' }));
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const [errors, setErrors] = useState<FriendlyError[]>([]);
  const [revoking, setRevoking] = useState<{ id: string; name: string; prefix: string } | null>(null);
  const [createState, create] = useMutation(CreateApiKeyMutation);
  const [revokeState, revoke] = useMutation(RevokeApiKeyMutation);
  const id = useId();
  const byField = fieldErrors(errors);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const res = await create({
      input: { name: name.trim(), expiresAt: expires ? new Date(`${expires}T23:59:59`).toISOString() : null },
    });
    setErrors(describeErrors(res.error));
    if (res.data?.createApiKey) {
      setSecret({ name: res.data.createApiKey.apiKey.name, secret: res.data.createApiKey.secret });
      setCopied(null);
      setName('');
      setExpires('');
    }
  };

  const copy = async () => {
    if (!secret) return;
    try {
      await navigator.clipboard.writeText(secret.secret);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('Copying is not allowed here: select the key and copy it by hand.');
    }
  };

  const keys = result.data?.apiKeys ?? [];
  return (
    <>
      <div className="page-head">
        <div>
          <h1>API keys</h1>
          <p className="muted">
            For scripts: send a key as <code>Authorization: Bearer &lt;key&gt;</code> or <code>X-API-Key: &lt;key&gt;</code>.
          </p>
        </div>
      </div>
      <section className="card" aria-labelledby="new-key-heading">
        <h2 id="new-key-heading">New key</h2>
        <form className="form inline-form" onSubmit={submit}>
          <div className="field">
            <label htmlFor={`${id}-name`}>Name</label>
            <input
              id={`${id}-name`}
              value={name}
              onChange={(e) => setName(e.target.value)}
              required
              maxLength={100}
              aria-invalid={!!byField.name}
              aria-describedby={`${id}-name-hint`}
            />
            <span id={`${id}-name-hint`} className={byField.name ? 'hint hint-error' : 'hint'}>
              {byField.name ?? 'What uses it, e.g. “backup script”.'}
            </span>
          </div>
          <div className="field">
            <label htmlFor={`${id}-expires`}>Expires (optional)</label>
            <input id={`${id}-expires`} type="date" value={expires} onChange={(e) => setExpires(e.target.value)} aria-describedby={`${id}-expires-hint`} />
            <span id={`${id}-expires-hint`} className="hint">
              {byField.expiresAt ?? 'Never, if empty.'}
            </span>
          </div>
          <button type="submit" className="btn btn-primary" disabled={createState.fetching}>
            Create key
          </button>
        </form>
        <ErrorNotice errors={errors.filter((e) => e.field !== 'name' && e.field !== 'expiresAt')} />
        {secret && (
          <div className="secret" role="status">
            <p>
              <strong>Copy the key “{secret.name}” now.</strong> It is shown only this once and cannot be recovered.
            </p>
            <div className="row">
              <label className="visually-hidden" htmlFor={`${id}-secret`}>
                New API key
              </label>
              <input id={`${id}-secret`} className="secret-value" readOnly value={secret.secret} onFocus={(e) => e.target.select()} />
              <button type="button" className="btn btn-primary" onClick={copy}>
                Copy
              </button>
              <button type="button" className="btn" onClick={() => setSecret(null)}>
                Done
              </button>
            </div>
            {copied && <p className="small">{copied}</p>}
          </div>
        )}
      </section>
      <section className="card" aria-labelledby="keys-heading">
        <h2 id="keys-heading">Your keys</h2>
        <ErrorNotice errors={describeErrors(result.error)} onRetry={() => refetch({ requestPolicy: 'network-only' })} />
        {result.data && keys.length === 0 && <p className="empty">No keys.</p>}
        {keys.length > 0 && (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key</th>
                  <th scope="col" className="hide-narrow">
                    Last used
                  </th>
                  <th scope="col" className="hide-narrow">
                    Expires
                  </th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.map((k) => (
                  <tr key={k.id}>
                    <td>{k.name}</td>
                    <td>
                      <code>{k.prefix}…</code>
                    </td>
                    <td className="hide-narrow muted">{k.lastUsedAt ? formatDateTime(k.lastUsedAt) : 'never'}</td>
                    <td className="hide-narrow muted">{k.expiresAt ? formatDateTime(k.expiresAt) : 'never'}</td>
                    <td className="actions">
                      <button type="button" className="btn btn-small btn-danger-quiet" onClick={() => setRevoking(k)} aria-label={`Revoke key ${k.name}`}>
                        Revoke
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <ConfirmDialog
        open={!!revoking}
        title="Revoke this key?"
        confirmLabel="Revoke key"
        danger
        busy={revokeState.fetching}
        onCancel={() => setRevoking(null)}
        onConfirm={async () => {
          if (!revoking) return;
          const res = await revoke({ id: revoking.id });
          setRevoking(null);
          setErrors(describeErrors(res.error));
        }}
      >
        <p>
          Requests with the key “{revoking?.name}” ({revoking?.prefix}…) fail from now on. This cannot be undone; scripts using
          it need a new key.
        </p>
      </ConfirmDialog>
    </>
  );
}
