interface Props {
  /** 0–100, or null when unknown (an indeterminate bar). */
  value: number | null;
  label: string;
  tone?: 'normal' | 'done' | 'failed';
  small?: boolean;
}

export function ProgressBar({ value, label, tone = 'normal', small }: Props) {
  const v = value == null ? null : Math.min(100, Math.max(0, value));
  return (
    <div
      className={`progress ${small ? 'progress-small' : ''} progress-${tone} ${v == null ? 'progress-indeterminate' : ''}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={v == null ? undefined : Math.round(v)}
    >
      <div className="progress-fill" style={{ width: v == null ? undefined : `${v}%` }} />
    </div>
  );
}
