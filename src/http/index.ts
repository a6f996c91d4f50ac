// The HTTP client Sealed fetches index pages and sdists with: one object per run holding its policy
// (timeouts, sizes, retries), proxy routing, credentials and connection pools; typed failures.
export { HttpClient, discard, type HttpClientOptions, type Opened, type OpenOptions } from './client.js';
export { redactUrl } from './credentials.js';
export { Deadline } from './deadline.js';
export { parseNoProxy, bypassesProxy } from './proxy.js';
export { DEFAULT_HTTP_POLICY, downloadDeadlineMs, type HttpPolicy } from './policy.js';
export { ConnectError, HttpStatusError, RedirectError, TransientError, connectHint, describeFailure, isTransient, type RedirectProblem } from './errors.js';
