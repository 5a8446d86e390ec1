// TLS and a password to Redis, on a real redis-server with a TLS port and requirepass (a CA and a server certificate
// made with openssl): `tixlock api` with REDIS_URL=rediss://… and REDIS_PASSWORD serves, /readyz included; the CA is
// trusted through NODE_EXTRA_CA_CERTS, as a deployment with its own CA would do.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../src/redis/embedded';
import { httpCall, spawnCli, waitForBanner, type CliProcess } from './support/spawn';

const BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server';
const CLIENT = 'tls-client-key-01';
const ADMIN = 'tls-admin-key-002';

let dir: string;
let redis: ChildProcess | undefined;
let api: CliProcess | undefined;

afterAll(async () => {
  await api?.kill();
  redis?.kill('SIGKILL');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function openssl(...args: string[]) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}


test('rediss:// with REDIS_PASSWORD: the API serves over TLS to Redis', async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tixlock-tls-'));
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=tixlock test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext');

  const port = await freePort();
  redis = spawn(BIN, [
    '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
    '--tls-cert-file', path.join(dir, 'server.crt'), '--tls-key-file', path.join(dir, 'server.key'),
    '--tls-ca-cert-file', path.join(dir, 'ca.crt'), '--tls-auth-clients', 'no', '--requirepass', 'tls-secret-pass',
  ], { stdio: 'ignore' });

  api = spawnCli(['api'], {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: path.join(dir, 'data'),
    REDIS_URL: `rediss://127.0.0.1:${port}`,
    REDIS_PASSWORD: 'tls-secret-pass',
    NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.crt'),
    TIXLOCK_API_KEYS: `shop:${CLIENT}`,
    TIXLOCK_ADMIN_KEYS: `ops:${ADMIN}`,
  });
  const proc = api;
  const { port: apiPort } = await waitForBanner(proc, 30_000);
  expect((await httpCall(apiPort, 'GET', '/readyz')).status).toBe(200);
  const tickets = [1, 2].map((seat) => ({ id: `tls-A${seat}`, section: 'ORCH', row: 'A', seat, price: 5000 }));
  expect((await httpCall(apiPort, 'PUT', '/performances/tls-perf', ADMIN, { name: 'TLS', tickets })).status).toBe(200);
  const held = await httpCall(apiPort, 'POST', '/transaction', CLIENT, { tickets: ['tls-A1'] });
  expect([held.status, held.body.transaction_status]).toEqual([201, 'open']);
}, 60_000);
