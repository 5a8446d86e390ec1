// API keys: from configuration, or (outside production, when none are configured) one dev client key and one
// dev admin key made on first start and kept in the data directory.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config';
import { StartupError } from './startup-error';

export interface KeySet {
  clients: { name: string; key: string }[];
  admins: { name: string; key: string }[];
  /** Set when the keys are generated dev keys (the banner prints them). */
  devKeysFile?: string;
}

export function resolveKeys(config: Config): KeySet {
  const { clients, admins } = config.keys;
  if (clients.length > 0 || admins.length > 0) {
    return { clients: [...clients], admins: [...admins] };
  }
  if (config.server.production) {
    throw new StartupError('No API keys configured: set TIXLOCK_API_KEYS and TIXLOCK_ADMIN_KEYS (name:key,...).');
  }
  const file = path.join(config.store.dataDir, 'dev-keys.json');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(config.store.dataDir, { recursive: true });
    const make = () => `tix_${randomBytes(18).toString('base64url')}`;
    const keys = { client: { name: 'dev-client', key: make() }, admin: { name: 'dev-admin', key: make() } };
    fs.writeFileSync(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
  }
  const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<'client' | 'admin', { name: string; key: string }>;
  return { clients: [saved.client], admins: [saved.admin], devKeysFile: file };
}
