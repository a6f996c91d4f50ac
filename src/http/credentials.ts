// Credentials. An index URL may carry user:password (as pip allows). A client keeps them per origin,
// sends them only to that origin (never across a redirect to another), and every URL Sealed records or
// prints has them stripped.

export class Credentials {
  private readonly byOrigin = new Map<string, string>();

  /** Removes user:password from a URL, remembering them for requests to the same origin. */
  take(url: URL): URL {
    if (!url.username && !url.password) return url;
    const clean = new URL(url.href);
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    clean.username = '';
    clean.password = '';
    if (clean.protocol === 'http:' || clean.protocol === 'https:') {
      this.byOrigin.set(clean.origin, `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`);
    }
    return clean;
  }

  /** The Authorization header for an origin, if its credentials were given. */
  headerFor(origin: string): string | undefined {
    return this.byOrigin.get(origin);
  }
}

/** A URL fit to print or record: no user:password. */
export function redactUrl(url: string | URL): string {
  try {
    const u = new URL(typeof url === 'string' ? url : url.href);
    if (!u.username && !u.password) return u.href;
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return String(url).replace(/\/\/[^/@]*@/, '//');
  }
}

