import { StrictMode, useState, type ComponentProps } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import './graphiql.css';
import { createOrganizerFetcher } from './fetcher';
import { browserStorage, forgetSavedGraphiQLState, tabOnlyStorage } from './credentials';

// Credentials never reach localStorage: what older versions of this page saved there
// (the Headers tab, and tabs and history with their headers) is removed before GraphiQL
// starts, and GraphiQL keeps its state in this browser tab's sessionStorage instead.
forgetSavedGraphiQLState(browserStorage('localStorage'));
const storage = tabOnlyStorage(browserStorage('sessionStorage'));

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
# New tabs start with the headers last typed, and
# subscriptions send the same credential. Headers
# are not saved: a reload starts without them.

query Me {
  me {
    username
    storageUsedBytes
    storageQuotaGb
  }
}
`;

function Playground() {
  // New tabs start with the headers last typed (not a placeholder that would be sent);
  // they are kept in memory only, for as long as the page is open.
  const [headers, setHeaders] = useState('{}');
  return (
    <GraphiQL
      fetcher={fetcher}
      storage={storage}
      // Headers are not written to storage (this also hides GraphiQL's "Persist headers"
      // setting); its query history still records them, in sessionStorage only.
      shouldPersistHeaders={false}
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
