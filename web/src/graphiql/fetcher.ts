// GraphiQL's fetcher: queries and mutations over HTTP POST /graphql with the Headers
// tab's headers; subscriptions over graphql-ws to /graphql/ws, one client per
// credential (Authorization, or X-API-Key as "Bearer <key>"), taken from the headers
// GraphiQL passes for each request. A refused credential ends the subscription with
// an error in the results pane at once (no retry loop).
import { createClient, type Client } from 'graphql-ws';
import { parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { describeSocketClose, placeholderProblem, shouldRetryClose, wsCredential, type Headers } from './credentials';

export interface FetcherParams {
  query: string;
  operationName?: string | null;
  variables?: unknown;
}
export interface FetcherOpts {
  headers?: Headers;
  documentAST?: DocumentNode;
}
interface Result {
  data?: unknown;
  errors?: unknown[];
}
interface Observer {
  next: (value: Result) => void;
  error: (error: unknown) => void;
  complete: () => void;
}
interface ObservableResult {
  subscribe(observer: Observer): { unsubscribe: () => void };
}

function errorResult(message: string, extensions: Record<string, unknown>): Result {
  return { errors: [{ message, extensions }] };
}

export function operationType(params: FetcherParams, documentAST?: DocumentNode): string | null {
  let doc = documentAST;
  if (!doc) {
    try {
      doc = parse(params.query);
    } catch {
      return null; // let the server report the syntax error
    }
  }
  const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
  const op = params.operationName ? ops.find((o) => o.name?.value === params.operationName) : ops[0];
  return op?.operation ?? null;
}

/**
 * GraphiQL takes the operation name from its state, updated a moment after each edit, but
 * the query text as it is at the click: right after an edit the name can belong to the
 * previous text ("Unknown operation named …"). Drop a name the query does not define when
 * the query has a single operation, which is then unambiguous.
 */
export function reconcileOperationName(params: FetcherParams): FetcherParams {
  if (!params.operationName) return params;
  let doc: DocumentNode;
  try {
    doc = parse(params.query);
  } catch {
    return params;
  }
  const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
  if (ops.some((o) => o.name?.value === params.operationName) || ops.length !== 1) return params;
  return { ...params, operationName: ops[0].name?.value ?? null };
}

export function createOrganizerFetcher(httpUrl: string, wsUrl: string) {
  const clients = new Map<string, Client>();

  function wsClientFor(credential: string | null): Client {
    const key = credential ?? '';
    let client = clients.get(key);
    if (client) return client;
    client = createClient({
      url: wsUrl,
      lazy: true,
      lazyCloseTimeout: 5_000,
      retryAttempts: 2,
      shouldRetry: shouldRetryClose,
      connectionParams: credential ? { Authorization: credential } : {},
      on: {
        closed: (event) => {
          // A refused credential: forget this client so a corrected header starts afresh.
          if (!shouldRetryClose(event)) {
            clients.delete(key);
          }
        },
      },
    });
    clients.set(key, client);
    return client;
  }

  async function http(params: FetcherParams, headers: Headers | undefined): Promise<Result> {
    let res: Response;
    try {
      res = await fetch(httpUrl, {
        method: 'POST',
        headers: {
          Accept: 'application/graphql-response+json, application/json',
          ...(headers as Record<string, string>),
          'Content-Type': 'application/json',
        },
        body: JSON.stringify(params),
      });
    } catch (e) {
      return errorResult(`Could not reach ${httpUrl}: ${(e as Error).message}`, { code: 'NETWORK' });
    }
    const text = await res.text();
    try {
      return JSON.parse(text) as Result;
    } catch {
      return errorResult(`The server answered ${res.status} ${res.statusText} without a GraphQL response.`, { code: 'HTTP', status: res.status });
    }
  }

  function subscription(params: FetcherParams, headers: Headers | undefined): ObservableResult {
    return {
      subscribe(observer) {
        let done = false;
        const client = wsClientFor(wsCredential(headers));
        const dispose = client.subscribe(
          { query: params.query, operationName: params.operationName ?? undefined, variables: (params.variables ?? undefined) as Record<string, unknown> | undefined },
          {
            next: (value) => observer.next(value as Result),
            error: (err) => {
              if (done) return;
              done = true;
              const { message, code, closeCode } = describeSocketClose(err);
              observer.next(errorResult(message, closeCode ? { code, closeCode } : { code }));
              observer.complete();
            },
            complete: () => {
              if (done) return;
              done = true;
              observer.complete();
            },
          },
        );
        return {
          unsubscribe: () => {
            done = true;
            dispose();
          },
        };
      },
    };
  }

  return (raw: FetcherParams, opts?: FetcherOpts): Promise<Result> | ObservableResult => {
    const params = reconcileOperationName(raw);
    const headers = opts?.headers;
    const problem = placeholderProblem(headers);
    if (problem) return Promise.resolve(errorResult(problem, { code: 'PLACEHOLDER_HEADER' }));
    // The query text, not opts.documentAST: GraphiQL updates that after each edit too.
    if (operationType(params) === 'subscription') return subscription(params, headers);
    return http(params, headers);
  };
}
