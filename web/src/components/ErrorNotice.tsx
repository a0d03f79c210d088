import type { FriendlyError } from '../api/errors';

interface Props {
  errors: FriendlyError[];
  onRetry?: () => void;
  title?: string;
}

/** Errors as sentences with a next step; announced to screen readers. */
export function ErrorNotice({ errors, onRetry, title }: Props) {
  if (errors.length === 0) return null;
  return (
    <div className="notice notice-error" role="alert">
      {title && <p className="notice-title">{title}</p>}
      <ul>
        {errors.map((e, i) => (
          <li key={i} data-code={e.code}>
            <strong>{e.message}</strong> <span>{e.nextStep}</span>
          </li>
        ))}
      </ul>
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
