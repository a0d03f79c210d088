import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import type { FriendlyError } from '../api/errors';
import { ErrorNotice } from './ErrorNotice';

interface Props {
  open: boolean;
  title: string;
  label: string;
  initial: string;
  confirmLabel: string;
  busy?: boolean;
  errors?: FriendlyError[];
  children?: ReactNode;
  onConfirm: (value: string) => void;
  onCancel: () => void;
}

/** A modal <dialog> asking for one line of text (a name, a folder). */
export function PromptDialog({ open, title, label, initial, confirmLabel, busy, errors, children, onConfirm, onCancel }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const inputId = useId();
  const [value, setValue] = useState(initial);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      setValue(initial);
      dialog.showModal();
    }
    if (!open && dialog.open) dialog.close();
  }, [open, initial]);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) onConfirm(value.trim());
        }}
      >
        <h2 id={titleId}>{title}</h2>
        <div className="dialog-body">
          {children}
          <label htmlFor={inputId}>{label}</label>
          <input
            id={inputId}
            name="prompt"
            value={value}
            autoFocus
            onChange={(e) => setValue(e.target.value)}
            aria-invalid={errors && errors.length > 0 ? true : undefined}
          />
          <ErrorNotice errors={errors ?? []} />
        </div>
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy || !value.trim()}>
            {busy ? 'Working…' : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
