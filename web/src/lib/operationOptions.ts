// The options form's values, their conversion to StartOperationInput, and a memory
// of which options started which operation (the API does not return them).
import type { KeepPolicy, OperationType, StartOperationInput } from '../gql/graphql';
import { parseList } from './plan';
import { normalizePath } from './format';

export interface OptionsForm {
  type: Exclude<OperationType, 'ROLLBACK'>;
  rootPath: string;
  dryRun: boolean;
  keep: KeepPolicy;
  protectedPaths: string;
  exclude: string;
  destinationTemplate: string;
  includeHidden: boolean;
  hashFiles: boolean;
  settleSeconds: string;
}

export function defaultOptions(type: OptionsForm['type'], rootPath: string): OptionsForm {
  return {
    type,
    rootPath: normalizePath(rootPath),
    dryRun: true,
    keep: 'OLDEST',
    protectedPaths: '',
    exclude: '',
    destinationTemplate: '{category}',
    includeHidden: false,
    hashFiles: false,
    settleSeconds: '',
  };
}

export function toStartInput(form: OptionsForm): StartOperationInput {
  const options: NonNullable<StartOperationInput['options']> = {
    includeHidden: form.includeHidden,
  };
  const exclude = parseList(form.exclude);
  if (exclude.length) options.exclude = exclude;
  if (form.type === 'DUPLICATE_CLEANUP') {
    options.keep = form.keep;
    const protectedPaths = parseList(form.protectedPaths).map(normalizePath);
    if (protectedPaths.length) options.protectedPaths = protectedPaths;
  } else {
    const template = form.destinationTemplate.trim();
    if (template && template !== '{category}') options.destinationTemplate = template;
    if (form.hashFiles) options.hashFiles = true;
  }
  const settle = form.settleSeconds.trim();
  if (settle !== '' && Number.isFinite(Number(settle))) options.settleSeconds = Math.max(0, Math.floor(Number(settle)));
  return { type: form.type, rootPath: normalizePath(form.rootPath), dryRun: form.dryRun, options };
}

const KEY = 'organizer.operationOptions';

function readAll(): Record<string, OptionsForm> {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) ?? '{}') as Record<string, OptionsForm>;
  } catch {
    return {};
  }
}

export function rememberOptions(operationId: string, form: OptionsForm): void {
  try {
    const all = readAll();
    all[operationId] = form;
    const ids = Object.keys(all);
    for (const id of ids.slice(0, Math.max(0, ids.length - 50))) delete all[id];
    sessionStorage.setItem(KEY, JSON.stringify(all));
  } catch {
    /* not remembered: the form falls back to defaults */
  }
}

export function recalledOptions(operationId: string): OptionsForm | null {
  return readAll()[operationId] ?? null;
}
