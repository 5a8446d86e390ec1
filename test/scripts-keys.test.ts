// The keys scripts derive from their KEYS (lock keys, transaction hashes) are the ones src/redis/keys.ts names, for
// any performance id (ids may contain ':' and '.'), and keep the performance's hash tag. Real Redis.
import path from 'node:path';
import { performanceKeys } from '../src/redis/keys';
import { expandIncludes, luaDir } from '../src/redis/scripts';
import { useTestApp } from './support/app';

const t = useTestApp();

test('lock_prefix_of and tx_prefix_of give keys.ts lock and transaction prefixes, from any key of the performance', async () => {
  const body = '--- @include "includes/keys"\nreturn {lock_prefix_of(KEYS[1]), tx_prefix_of(KEYS[1]), lock_prefix_of(KEYS[2]), tx_prefix_of(KEYS[2])}';
  const source = expandIncludes(body, path.join(luaDir(), 'keys-test.lua'));
  for (const id of ['p1', 'show.2026-12-03:20h', 'a:b:c', 'x_y-z']) {
    const k = performanceKeys(id);
    const got = await t.redis.eval(source, 2, k.performance, k.tickets);
    expect(got).toEqual([k.lockPrefix, k.transactionPrefix, k.lockPrefix, k.transactionPrefix]);
    expect(k.lockPrefix).toContain(`{p:${id}}`);
  }
});
