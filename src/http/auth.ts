// API keys -> callers. Keys are kept only as SHA-256 digests; a presented key is hashed and compared in
// constant time, so neither the key nor its closeness to a real one shows in timing, logs or answers.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { Forbidden, Unauthenticated } from '../errors';
import type { Caller, Role } from '../domain/types';
import { HEADER } from './headers';

const digest = (key: string) => createHash('sha256').update(key).digest();

export class KeyRing {
  private readonly entries: { digest: Buffer; name: string; role: Role }[] = [];

  constructor(clients: readonly { name: string; key: string }[], admins: readonly { name: string; key: string }[]) {
    for (const { name, key } of clients) this.entries.push({ digest: digest(key), name, role: 'client' });
    for (const { name, key } of admins) this.entries.push({ digest: digest(key), name, role: 'admin' });
  }

  /** The caller a key belongs to (every entry is compared, so the time does not depend on which matched). */
  identify(key: string): { name: string; role: Role } | undefined {
    const d = digest(key);
    let found: { name: string; role: Role } | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.digest, d) && !found) found = { name: e.name, role: e.role };
    return found;
  }
}

/** The key from Authorization: Bearer, X-API-Key or X-ATHENA-Key. */
function presentedKey(req: Request): string | undefined {
  const auth = req.get(HEADER.authorization);
  const bearer = auth?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  return bearer ?? req.get(HEADER.apiKey) ?? req.get(HEADER.athenaKey) ?? undefined;
}

/**
 * The client address: the socket's, or X-Forwarded-For's when TRUST_PROXY says so (Express's req.ip). A forwarded
 * value that is not an IP address (TRUST_PROXY=true trusts whatever the client wrote) is not recorded: the socket's is.
 */
function clientIp(req: Request): string {
  const plain = (ip: string) => (ip.startsWith('::ffff:') ? ip.slice(7) : ip);
  const forwarded = plain(req.ip ?? '');
  return isIP(forwarded) ? forwarded : plain(req.socket.remoteAddress ?? '');
}

export function authenticate(keys: KeyRing) {
  return (req: Request, res: Response, next: NextFunction) => {
    const key = presentedKey(req);
    const who = key ? keys.identify(key) : undefined;
    if (!who) throw new Unauthenticated();
    res.locals.caller = { ...who, ip: clientIp(req) } satisfies Caller;
    next();
  };
}

export function requireAdmin(_req: Request, res: Response, next: NextFunction) {
  if (caller(res).role !== 'admin') throw new Forbidden();
  next();
}

export const caller = (res: Response): Caller => res.locals.caller as Caller;
