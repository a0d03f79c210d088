import { Link } from '../router';

/** What a path with nothing at it shows (also what a page someone may not see shows). */
export function NotFound({ pathname }: { pathname: string }) {
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is nothing at {pathname}. <Link to="/files">Go to your files</Link>
      </p>
    </>
  );
}
