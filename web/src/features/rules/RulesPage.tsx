import { useId, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  CategoryRulesQuery,
  CreateCategoryRuleMutation,
  DeleteCategoryRuleMutation,
  UpdateCategoryRuleMutation,
} from './documents';
import { describeErrors, fieldErrors, type FriendlyError } from '../../api/errors';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorNotice } from '../../components/ErrorNotice';
import type { CategoryRuleFieldsFragment, CategoryRuleInput } from '../../gql/graphql';
import { useDocumentTitle, useRefetchOnReconnect } from '../../hooks';
import { formatBytes } from '../../lib/format';
import { parseList } from '../../lib/plan';

interface RuleForm {
  name: string;
  category: string;
  extensions: string;
  nameGlob: string;
  mimePrefix: string;
  minSizeBytes: string;
  maxSizeBytes: string;
  priority: string;
}

const EMPTY: RuleForm = { name: '', category: '', extensions: '', nameGlob: '', mimePrefix: '', minSizeBytes: '', maxSizeBytes: '', priority: '0' };

function fromRule(r: CategoryRuleFieldsFragment): RuleForm {
  return {
    name: r.name,
    category: r.category,
    extensions: r.extensions.join(', '),
    nameGlob: r.nameGlob ?? '',
    mimePrefix: r.mimePrefix ?? '',
    minSizeBytes: r.minSizeBytes?.toString() ?? '',
    maxSizeBytes: r.maxSizeBytes?.toString() ?? '',
    priority: String(r.priority),
  };
}

export function toRuleInput(f: RuleForm): CategoryRuleInput {
  const num = (s: string) => (s.trim() === '' ? null : Number(s));
  return {
    name: f.name.trim(),
    category: f.category.trim(),
    extensions: parseList(f.extensions).map((e) => e.replace(/^\./, '').toLowerCase()),
    nameGlob: f.nameGlob.trim() || null,
    mimePrefix: f.mimePrefix.trim() || null,
    minSizeBytes: num(f.minSizeBytes),
    maxSizeBytes: num(f.maxSizeBytes),
    priority: Number(f.priority) || 0,
  };
}

export function RulesPage() {
  useDocumentTitle('Category rules');
  const [result, refetch] = useQuery({ query: CategoryRulesQuery });
  useRefetchOnReconnect(() => refetch({ requestPolicy: 'network-only' }));
  const [editing, setEditing] = useState<CategoryRuleFieldsFragment | 'new' | null>(null);
  const [deleting, setDeleting] = useState<CategoryRuleFieldsFragment | null>(null);
  const [errors, setErrors] = useState<FriendlyError[]>([]);
  const [delState, del] = useMutation(DeleteCategoryRuleMutation);
  const rules = result.data?.categoryRules ?? [];

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Category rules</h1>
          <p className="muted">Your rules decide a file’s category before the built-in ones; the highest priority wins.</p>
        </div>
        <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>
          New rule…
        </button>
      </div>
      {editing && (
        <section className="card" aria-labelledby="rule-form-heading">
          <h2 id="rule-form-heading">{editing === 'new' ? 'New rule' : `Edit “${editing.name}”`}</h2>
          <RuleEditor
            key={editing === 'new' ? 'new' : editing.id}
            rule={editing === 'new' ? null : editing}
            onDone={() => setEditing(null)}
          />
        </section>
      )}
      <section className="card" aria-labelledby="rules-heading">
        <h2 id="rules-heading">Rules</h2>
        <ErrorNotice errors={[...describeErrors(result.error), ...errors]} />
        {result.data && rules.length === 0 && <p className="empty">No rules yet: the built-in categories apply.</p>}
        {rules.length > 0 && (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Category</th>
                  <th scope="col" className="hide-narrow">
                    Matches
                  </th>
                  <th scope="col" className="num hide-narrow">
                    Priority
                  </th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rules.map((r) => (
                  <tr key={r.id}>
                    <td>{r.name}</td>
                    <td>
                      <span className="tag">{r.category}</span>
                    </td>
                    <td className="hide-narrow small">{describeRule(r)}</td>
                    <td className="num hide-narrow">{r.priority}</td>
                    <td className="actions">
                      <button type="button" className="btn btn-small" onClick={() => setEditing(r)} aria-label={`Edit rule ${r.name}`}>
                        Edit
                      </button>
                      <button type="button" className="btn btn-small btn-danger-quiet" onClick={() => setDeleting(r)} aria-label={`Delete rule ${r.name}`}>
                        Delete
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
        open={!!deleting}
        title="Delete this rule?"
        confirmLabel="Delete rule"
        danger
        busy={delState.fetching}
        onCancel={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          const res = await del({ id: deleting.id });
          setDeleting(null);
          setErrors(describeErrors(res.error));
        }}
      >
        <p>
          Deletes the rule “{deleting?.name}”. Files already organized stay where they are; later operations use the remaining
          rules and the built-in categories.
        </p>
      </ConfirmDialog>
    </>
  );
}

function describeRule(r: CategoryRuleFieldsFragment): string {
  const parts: string[] = [];
  if (r.extensions.length) parts.push(r.extensions.map((e) => `.${e}`).join(' '));
  if (r.nameGlob) parts.push(`name ${r.nameGlob}`);
  if (r.mimePrefix) parts.push(`type ${r.mimePrefix}*`);
  if (r.minSizeBytes != null) parts.push(`≥ ${formatBytes(r.minSizeBytes)}`);
  if (r.maxSizeBytes != null) parts.push(`≤ ${formatBytes(r.maxSizeBytes)}`);
  return parts.join(' · ') || 'every file';
}

function RuleEditor({ rule, onDone }: { rule: CategoryRuleFieldsFragment | null; onDone: () => void }) {
  const [form, setForm] = useState<RuleForm>(rule ? fromRule(rule) : EMPTY);
  const [errors, setErrors] = useState<FriendlyError[]>([]);
  const [createState, create] = useMutation(CreateCategoryRuleMutation);
  const [updateState, update] = useMutation(UpdateCategoryRuleMutation);
  const id = useId();
  const byField = fieldErrors(errors);
  const set = (k: keyof RuleForm) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [k]: e.target.value }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const input = toRuleInput(form);
    const res = rule ? await update({ id: rule.id, input }) : await create({ input });
    const errs = describeErrors(res.error);
    setErrors(errs);
    if (!res.error) onDone();
  };
  const field = (k: keyof RuleForm, label: string, hint?: string, type = 'text') => (
    <div className="field">
      <label htmlFor={`${id}-${k}`}>{label}</label>
      <input
        id={`${id}-${k}`}
        type={type}
        value={form[k]}
        onChange={set(k)}
        aria-invalid={!!byField[k]}
        aria-describedby={byField[k] || hint ? `${id}-${k}-hint` : undefined}
        required={k === 'name' || k === 'category'}
      />
      {(byField[k] || hint) && (
        <span id={`${id}-${k}-hint`} className={byField[k] ? 'hint hint-error' : 'hint'}>
          {byField[k] ?? hint}
        </span>
      )}
    </div>
  );
  return (
    <form className="form grid-form" onSubmit={submit}>
      {field('name', 'Name')}
      {field('category', 'Category (folder name)')}
      {field('extensions', 'Extensions', 'Comma-separated, e.g. psd, ai')}
      {field('nameGlob', 'Name pattern', 'e.g. scan_*.pdf')}
      {field('mimePrefix', 'Content type starts with', 'e.g. image/')}
      {field('minSizeBytes', 'Minimum size (bytes)', undefined, 'number')}
      {field('maxSizeBytes', 'Maximum size (bytes)', undefined, 'number')}
      {field('priority', 'Priority', 'Higher wins', 'number')}
      <div className="span-all">
        <ErrorNotice errors={errors.filter((e) => !e.field || !(e.field in form))} />
        <div className="row">
          <button type="submit" className="btn btn-primary" disabled={createState.fetching || updateState.fetching}>
            {rule ? 'Save rule' : 'Create rule'}
          </button>
          <button type="button" className="btn" onClick={onDone}>
            Cancel
          </button>
        </div>
      </div>
    </form>
  );
}
