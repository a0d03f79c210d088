import { useCallback, useState } from 'react';
import { fieldErrors, otherErrors, type FriendlyError } from '../api/errors';
import { firstFieldInError } from '../lib/accountChecks';

interface FieldProps {
  /** `<prefix>-<name>`: the part after the last `-` is the input's name. */
  id: string;
  label: string;
  type?: string;
  value: string;
  onChange: (v: string) => void;
  autoComplete: string;
  error?: string;
  hint?: string;
  required?: boolean;
}

/** A labelled input with its hint, or its error in place of the hint. */
export function Field({ id, label, type = 'text', value, onChange, autoComplete, error, hint, required = true }: FieldProps) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={id.split('-').pop()}
        type={type}
        value={value}
        required={required}
        autoComplete={autoComplete}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={!!error}
        aria-describedby={error || hint ? `${id}-hint` : undefined}
      />
      {(error || hint) && (
        <span id={`${id}-hint`} className={error ? 'hint hint-error' : 'hint'}>
          {error ?? hint}
        </span>
      )}
    </div>
  );
}

/**
 * The errors of a form whose inputs have the ids `<id>-<field>`: `show` sets them and
 * moves focus to the first field in error (in `order`), so a keyboard or screen-reader
 * user lands on it; `others` are the errors not shown beside an input.
 */
export function useFormErrors(id: string, order: readonly string[]) {
  const [errors, setErrors] = useState<FriendlyError[]>([]);
  const key = order.join(',');
  const show = useCallback(
    (found: FriendlyError[]) => {
      setErrors(found);
      const first = firstFieldInError(key.split(','), found);
      if (first) requestAnimationFrame(() => document.getElementById(`${id}-${first}`)?.focus());
    },
    [id, key],
  );
  return { errors, show, byField: fieldErrors(errors), others: otherErrors(errors, [...order]) };
}
