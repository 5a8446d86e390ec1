// The benchmark's season row at a tiny scale (tools/bench/season.ts): 5 performances sold, closed, archived by the
// order writer, their records and answers expired (a minute: the retention settings' minimum). Redis's used_memory
// comes back to the baseline within 5%, and no key the season made is left. Memory and keys, never time.
import path from 'node:path';
import { runSeason } from '../tools/bench/season';

const REGISTER = path.join(__dirname, 'support', 'swc-register.js');

test('a season of 5 performances leaves Redis as it found it, once archived and expired', async () => {
  const r = await runSeason({ performances: 5, ticketsPerPerformance: 80 }, ['-r', REGISTER]);
  process.stdout.write(
    `season of 5: used_memory baseline ${r.baseline.used_memory}, after sales ${r.after_sales.used_memory}, after archive ` +
      `${r.after_archive.used_memory}, after expiry ${r.after_expiry.used_memory} (${r.ratio_after_expiry.toFixed(4)} ×)\n`,
  );
  expect(r.sales).toMatchObject({ completed: 5 * 24, keyed_sales: 5 * 8, released: 5 * 6, lapsed: 5 * 4 });
  expect(r.after_sales.used_memory).toBeGreaterThan(r.baseline.used_memory);
  // archived: every performance's keys gone; what stays waits to expire (records, answers)
  expect(r.after_archive.used_memory).toBeLessThan(r.after_sales.used_memory);
  expect(r.after_archive.keys - r.baseline.keys).toBe(r.after_archive.expires - r.baseline.expires);
  // expired: the keyspace is the baseline's, and used_memory within 5% of it
  expect(r.leftover_keys.count).toBe(0);
  expect(r.after_expiry.keys).toBe(r.baseline.keys);
  expect(r.after_expiry.expires).toBe(r.baseline.expires);
  expect(r.ratio_after_expiry).toBeLessThanOrEqual(1.05);
}, 300_000);
