// Connection URLs as they may be shown (banner, error lines): the password never is.

/** `scheme://user:password@host...` -> `scheme://user:***@host...`; a URL without a password is unchanged. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}
