import { useId, useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { StartOperationMutation } from '../api/documents';
import { describeErrors, fieldErrors, type FriendlyError } from '../api/errors';
import type { OperationFieldsFragment } from '../gql/graphql';
import { rememberOptions, toStartInput, type OptionsForm } from '../lib/operationOptions';
import { ErrorNotice } from './ErrorNotice';

interface Props {
  initial: OptionsForm;
  /** Lock the type (re-running a plan). */
  fixedType?: boolean;
  submitLabel?: string;
  onStarted: (op: OperationFieldsFragment) => void;
  onCancel?: () => void;
}

export function StartOperationForm({ initial, fixedType, submitLabel, onStarted, onCancel }: Props) {
  const [form, setForm] = useState<OptionsForm>(initial);
  const [errors, setErrors] = useState<FriendlyError[]>([]);
  const [state, start] = useMutation(StartOperationMutation);
  const id = useId();
  const set = <K extends keyof OptionsForm>(key: K, value: OptionsForm[K]) => setForm((f) => ({ ...f, [key]: value }));
  const byField = fieldErrors(errors);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const result = await start({ input: toStartInput(form) });
    const found = describeErrors(result.error);
    setErrors(found);
    if (result.data?.startOperation) {
      rememberOptions(result.data.startOperation.id, form);
      onStarted(result.data.startOperation);
    }
  };

  const cleanup = form.type === 'DUPLICATE_CLEANUP';
  return (
    <form className="form start-form" onSubmit={submit} aria-describedby={`${id}-help`}>
      {!fixedType && (
        <fieldset className="segmented">
          <legend>What to do</legend>
          <label>
            <input type="radio" name="type" checked={!cleanup} onChange={() => set('type', 'ORGANIZE')} /> Organize into
            category folders
          </label>
          <label>
            <input type="radio" name="type" checked={cleanup} onChange={() => set('type', 'DUPLICATE_CLEANUP')} /> Clean up
            duplicates
          </label>
        </fieldset>
      )}
      <p id={`${id}-help`} className="muted small">
        {cleanup
          ? 'Finds byte-identical files, keeps one copy of each and moves the others to a trash folder you can restore from.'
          : 'Moves every file into a folder named by its category (Images, Documents, …). Nothing is overwritten.'}
      </p>
      <div className="field">
        <label htmlFor={`${id}-root`}>Folder</label>
        <input
          id={`${id}-root`}
          value={form.rootPath}
          placeholder="(all files)"
          onChange={(e) => set('rootPath', e.target.value)}
          aria-invalid={!!byField.rootPath}
          aria-describedby={`${id}-root-hint`}
        />
        <span id={`${id}-root-hint`} className="hint">
          {byField.rootPath ?? 'Relative to your storage; empty for all files.'}
        </span>
      </div>
      {cleanup ? (
        <>
          <div className="field">
            <label htmlFor={`${id}-keep`}>Copy to keep</label>
            <select id={`${id}-keep`} value={form.keep} onChange={(e) => set('keep', e.target.value as OptionsForm['keep'])}>
              <option value="OLDEST">Oldest (modified longest ago)</option>
              <option value="NEWEST">Newest (modified most recently)</option>
              <option value="SHORTEST_PATH">Shortest path</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-protected`}>Protected paths</label>
            <textarea
              id={`${id}-protected`}
              rows={2}
              value={form.protectedPaths}
              onChange={(e) => set('protectedPaths', e.target.value)}
              aria-describedby={`${id}-protected-hint`}
            />
            <span id={`${id}-protected-hint`} className="hint">
              {byField.protectedPaths ?? 'One per line. Files under these paths are always kept.'}
            </span>
          </div>
        </>
      ) : (
        <div className="field">
          <label htmlFor={`${id}-template`}>Destination folder</label>
          <input
            id={`${id}-template`}
            value={form.destinationTemplate}
            onChange={(e) => set('destinationTemplate', e.target.value)}
            aria-invalid={!!byField.destinationTemplate}
            aria-describedby={`${id}-template-hint`}
          />
          <span id={`${id}-template-hint`} className="hint">
            {byField.destinationTemplate ?? 'Knows {category}, {year}, {month} and {ext}, e.g. {category}/{year}.'}
          </span>
        </div>
      )}
      <div className="field">
        <label htmlFor={`${id}-exclude`}>Leave out</label>
        <textarea
          id={`${id}-exclude`}
          rows={2}
          value={form.exclude}
          onChange={(e) => set('exclude', e.target.value)}
          aria-describedby={`${id}-exclude-hint`}
        />
        <span id={`${id}-exclude-hint`} className="hint">
          {byField.exclude ?? 'Patterns relative to the folder, one per line, e.g. **/*.tmp'}
        </span>
      </div>
      <details className="more-options">
        <summary>More options</summary>
        <label className="check">
          <input type="checkbox" checked={form.includeHidden} onChange={(e) => set('includeHidden', e.target.checked)} />{' '}
          Include hidden files (names starting with “.”)
        </label>
        {!cleanup && (
          <label className="check">
            <input type="checkbox" checked={form.hashFiles} onChange={(e) => set('hashFiles', e.target.checked)} /> Record
            each file’s checksum (a rollback can then verify content)
          </label>
        )}
        <div className="field">
          <label htmlFor={`${id}-settle`}>Skip files changed in the last (seconds)</label>
          <input
            id={`${id}-settle`}
            type="number"
            min={0}
            inputMode="numeric"
            value={form.settleSeconds}
            onChange={(e) => set('settleSeconds', e.target.value)}
          />
        </div>
      </details>
      <label className="check dry-run">
        <input type="checkbox" checked={form.dryRun} onChange={(e) => set('dryRun', e.target.checked)} />{' '}
        <span>
          <strong>Dry run</strong>: plan only, move nothing. You review the plan and then apply it.
        </span>
      </label>
      <ErrorNotice errors={errors} />
      <div className="row">
        <button type="submit" className="btn btn-primary" disabled={state.fetching}>
          {state.fetching ? 'Starting…' : (submitLabel ?? (form.dryRun ? 'Plan (dry run)' : cleanup ? 'Clean up now' : 'Organize now'))}
        </button>
        {onCancel && (
          <button type="button" className="btn" onClick={onCancel}>
            Close
          </button>
        )}
      </div>
    </form>
  );
}
