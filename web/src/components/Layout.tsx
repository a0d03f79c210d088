import { useEffect, useRef, type ReactNode } from 'react';
import { useAuth } from '../features/auth/AuthContext';
import { Link, matchPath, useLocation } from '../router';
import { ConnectionBanner } from './ConnectionBanner';
import { LiveOperations } from './LiveOperations';
import { QuotaMeter } from './QuotaMeter';
import { VerifyBanner } from './VerifyBanner';
import { UploadProvider } from '../features/uploads/UploadProvider';
import { UploadTray } from '../features/uploads/UploadTray';

const NAV = [
  { to: '/files', label: 'Files' },
  { to: '/operations', label: 'Operations' },
  { to: '/trash', label: 'Trash' },
  { to: '/rules', label: 'Rules' },
  { to: '/keys', label: 'API keys' },
  { to: '/settings', label: 'Settings' },
];
/** Shown to administrators only. */
const ADMIN_NAV = [{ to: '/admin', label: 'Admin' }];

export function Layout({ children }: { children: ReactNode }) {
  const { user, signOut } = useAuth();
  const { pathname } = useLocation();
  const main = useRef<HTMLElement>(null);
  const firstRender = useRef(true);

  // After client-side navigation, move focus to the new page's heading.
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    const heading = main.current?.querySelector('h1');
    if (heading instanceof HTMLElement) {
      heading.tabIndex = -1;
      heading.focus();
    }
  }, [pathname]);

  return (
    <UploadProvider>
      <div className="shell">
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <header className="topbar">
          <Link to="/files" className="brand" aria-label="Organizer, home">
            <span className="brand-mark" aria-hidden="true" />
            Organizer
          </Link>
          <nav aria-label="Main">
            <ul className="nav">
              {(user?.role === 'ADMIN' ? [...NAV, ...ADMIN_NAV] : NAV).map((item) => {
                const current = pathname === item.to || pathname.startsWith(`${item.to}/`);
                return (
                  <li key={item.to}>
                    <Link to={item.to} aria-current={current ? 'page' : undefined}>
                      {item.label}
                    </Link>
                  </li>
                );
              })}
            </ul>
          </nav>
          {user && (
            <div className="account">
              <QuotaMeter usedBytes={user.storageUsedBytes} quotaGb={user.storageQuotaGb} compact />
              <span className="account-name" title={user.email}>
                {user.username}
              </span>
              <button type="button" className="btn btn-small" onClick={() => void signOut()}>
                Sign out
              </button>
            </div>
          )}
        </header>
        <ConnectionBanner />
        <VerifyBanner />
        <main id="main" ref={main}>
          {/* The operation page shows its own progress: not twice. */}
          <LiveOperations exceptId={matchPath('/operations/:id', pathname)?.id} />
          {children}
        </main>
        {/* For developers: out of the main navigation, which is for files. */}
        <footer className="app-footer">
          <a href="/graphql">GraphiQL, the API playground</a>
        </footer>
        {/* Uploads go on from page to page: their tray is the shell's, not a page's. */}
        <UploadTray />
      </div>
    </UploadProvider>
  );
}
