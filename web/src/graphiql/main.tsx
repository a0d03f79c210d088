import { StrictMode, useState, type ComponentProps } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import './graphiql.css';
import { createOrganizerFetcher } from './fetcher';

const httpUrl = new URL('/graphql', window.location.href).toString();
const ws = new URL('/graphql/ws', window.location.href);
ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
// Our results are plain JSON objects; GraphiQL's type wants graphql-js's ExecutionResult.
const fetcher = createOrganizerFetcher(httpUrl, ws.toString()) as unknown as ComponentProps<typeof GraphiQL>['fetcher'];

const DEFAULT_QUERY = `# Organizer GraphQL API
#
# Put a credential in the Headers tab below:
#   {"Authorization": "Bearer <accessToken>"}
# or an API key:
#   {"X-API-Key": "<key>"}
# Headers are kept across tabs and reloads;
# subscriptions send the same credential.

query Me {
  me {
    username
    storageUsedBytes
    storageQuotaGb
  }
}
`;

function storedHeaders(): string {
  try {
    const value = localStorage.getItem('graphiql:headers');
    return value && value.trim() ? value : '{}';
  } catch {
    return '{}';
  }
}

function Playground() {
  // New tabs start with the headers last typed (not a placeholder that would be sent).
  const [headers, setHeaders] = useState(storedHeaders);
  return (
    <GraphiQL
      fetcher={fetcher}
      shouldPersistHeaders
      defaultHeaders={headers}
      onEditHeaders={setHeaders}
      defaultQuery={DEFAULT_QUERY}
      defaultEditorToolsVisibility="headers"
    >
      <GraphiQL.Logo>Organizer</GraphiQL.Logo>
      <GraphiQL.Footer>
        <p className="organizer-hint">
          Credentials go in the Headers tab: <code>{'{"Authorization": "Bearer …"}'}</code> or{' '}
          <code>{'{"X-API-Key": "…"}'}</code>. <a href="/">Back to Organizer</a>
        </p>
      </GraphiQL.Footer>
    </GraphiQL>
  );
}

createRoot(document.getElementById('graphiql')!).render(
  <StrictMode>
    <Playground />
  </StrictMode>,
);
