/**
 * Who is making a request. Every core service takes one; it comes from a
 * verified token and is never built from client-supplied payload fields.
 */
export interface Caller {
  userId: string;
  tenantId: string;
  name: string;
  roles: readonly string[];
  /** Token expiry in seconds since the epoch, when the token has one. */
  exp?: number;
}
