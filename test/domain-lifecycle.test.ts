// Pure rules of src/domain (mutation testing found them held only through whole-service tests, loosely): when a
// performance ends and closes, what an expired transaction is, how order numbers read back, and the order-number
// fence's per-connection memory.
import { ArchivedPerformances, closedAt, endOf, lifecycleOf } from '../src/domain/lifecycle';
import { OrderNumberFence } from '../src/domain/order-fence';
import { decodeOrderNumber, ORDER_ALPHABET, storedOrderSequence } from '../src/domain/order-number';
import type { TransactionState } from '../src/domain/types';
import { effectiveStatus } from '../src/domain/views';
import { AppError } from '../src/errors';

const T0 = Date.parse('2026-06-01T20:00:00.000Z');

describe('a performance ends and closes', () => {
  test('its end is ends_at when given, else starts_at plus the grace, else none', () => {
    expect(endOf({ starts_at: '2026-06-01T19:00:00.000Z', ends_at: '2026-06-01T20:00:00.000Z' }, 3600)).toBe(T0);
    expect(endOf({ starts_at: '2026-06-01T19:00:00.000Z' }, 90)).toBe(T0 - 3600_000 + 90_000);
    expect(endOf({}, 90)).toBeUndefined();
  });

  test('closed at its end once the end came (at the very millisecond), not before', () => {
    expect(closedAt({ closed_at_ms: undefined, ends_ms: T0, now_ms: T0 - 1 })).toBeUndefined();
    expect(closedAt({ closed_at_ms: undefined, ends_ms: T0, now_ms: T0 })).toBe(T0);
  });

  test('closed by an admin: at the earlier of that close and an end that came', () => {
    expect(closedAt({ closed_at_ms: T0 - 5, ends_ms: undefined, now_ms: T0 })).toBe(T0 - 5);
    expect(closedAt({ closed_at_ms: T0 - 5, ends_ms: T0 + 10, now_ms: T0 })).toBe(T0 - 5);
    expect(closedAt({ closed_at_ms: T0 + 5, ends_ms: T0, now_ms: T0 + 20 })).toBe(T0);
    expect(closedAt({ closed_at_ms: T0 - 5, ends_ms: T0 - 10, now_ms: T0 })).toBe(T0 - 10);
  });

  test('lifecycle: archived once sealed, closed once closed, else open', () => {
    const open = { closed_at_ms: undefined, ends_ms: T0 + 1, now_ms: T0, sealed_at_ms: undefined };
    expect(lifecycleOf(open)).toBe('open');
    expect(lifecycleOf({ ...open, closed_at_ms: T0 })).toBe('closed');
    expect(lifecycleOf({ ...open, closed_at_ms: T0, sealed_at_ms: T0 })).toBe('archived');
  });
});

describe('archived performances explain a missing performance or tickets', () => {
  const documents = {
    getPerformance: async (id: string) => (id === 'gone' ? ({ id, archive: {} } as never) : id === 'live' ? ({ id } as never) : undefined),
    ticketPerformances: async (ids: readonly string[]) => new Map(ids.filter((t) => t !== 'unknown').map((t) => [t, t.startsWith('g') ? 'gone' : 'live'])),
  };
  const archived = new ArchivedPerformances(documents);
  const original = new Error('not found');
  const closed = (err: unknown) => err instanceof AppError && err.code === 'PERFORMANCE_CLOSED';

  test('a performance the store archived: PERFORMANCE_CLOSED; one it holds unarchived or not at all: the original error', async () => {
    expect(closed(await archived.explain(original, { performanceId: 'gone' }))).toBe(true);
    expect(await archived.explain(original, { performanceId: 'live' })).toBe(original);
    expect(await archived.explain(original, { performanceId: 'never' })).toBe(original);
  });

  test('tickets: PERFORMANCE_CLOSED only when every one belongs to an archived performance', async () => {
    expect(closed(await archived.explain(original, { ticketIds: ['g1', 'g2'] }))).toBe(true);
    expect(await archived.explain(original, { ticketIds: ['g1', 'l2'] })).toBe(original);
    expect(await archived.explain(original, { ticketIds: ['g1', 'unknown'] })).toBe(original);
    expect(await archived.explain(original, { ticketIds: [] })).toBe(original);
  });

  test('a store that does not answer leaves the original error', async () => {
    const down = new ArchivedPerformances({ getPerformance: () => Promise.reject(new Error('down')), ticketPerformances: () => Promise.reject(new Error('down')) });
    expect(await down.explain(original, { performanceId: 'gone', ticketIds: ['g1'] })).toBe(original);
  });
});

describe('transactions', () => {
  const tx = (status: TransactionState['status'], now: number): TransactionState => ({
    id: 'tx', performance_id: 'p', status, client: 'alice', ip: '::1', created_at_ms: T0 - 1000, lock_expires_ms: T0,
    hold_seconds: 60, order_number: undefined, now_ms: now, tickets: [],
  });

  test('an open or checkout transaction reads as expired only after its lock expiry, not at it', () => {
    for (const status of ['open', 'checkout'] as const) {
      expect(effectiveStatus(tx(status, T0))).toBe(status);
      expect(effectiveStatus(tx(status, T0 + 1))).toBe('expired');
    }
  });

  test('a complete or released transaction keeps its status after the expiry', () => {
    expect(effectiveStatus(tx('complete', T0 + 1))).toBe('complete');
    expect(effectiveStatus(tx('released', T0 + 1))).toBe('released');
  });
});

describe('order numbers', () => {
  const digit = (n: number) => ORDER_ALPHABET[n]!;

  test('5 characters of performance code, then the sequence, both in base 24 of the alphabet', () => {
    expect(decodeOrderNumber(`${digit(0).repeat(4)}${digit(1)}${digit(0).repeat(4)}${digit(2)}`)).toEqual({ code: 1, sequence: 2 });
    expect(decodeOrderNumber(`${digit(0).repeat(3)}${digit(1)}${digit(0)}${digit(0).repeat(4)}${digit(1)}${digit(23)}`)).toEqual({ code: 24, sequence: 47 });
  });

  test('a character outside the alphabet is refused', () => {
    expect(() => decodeOrderNumber('33333I3333')).toThrow(/not an order number character: I/);
  });

  test("the store's sequence: 0 with no order, else the last order's", async () => {
    expect(await storedOrderSequence({ lastOrderNumber: async () => undefined }, 'p')).toEqual({ sequence: 0, orderNumber: undefined });
    expect(await storedOrderSequence({ lastOrderNumber: async () => '3333343' }, 'p')).toEqual({ sequence: 24, orderNumber: '3333343' });
  });
});

describe('the order-number fence', () => {
  test("reads the store's sequence until a complete is confirmed, then 0 until the next invalidate", async () => {
    let reads = 0;
    const fence = new OrderNumberFence({ lastOrderNumber: async () => (reads++, '3333343333A') });
    const first = await fence.read('p');
    expect(first.minSequence).toBeGreaterThan(0);
    expect((await fence.read('p')).minSequence).toBe(first.minSequence); // not confirmed yet: read again
    fence.confirm('p', first);
    expect(await fence.read('p')).toEqual({ minSequence: 0, epoch: first.epoch });
    expect(reads).toBe(2);
    fence.invalidate();
    expect((await fence.read('p')).minSequence).toBe(first.minSequence);
  });

  test('a read from before an invalidate confirms nothing', async () => {
    const fence = new OrderNumberFence({ lastOrderNumber: async () => '3333343333A' });
    const stale = await fence.read('p');
    fence.invalidate();
    fence.confirm('p', stale);
    expect((await fence.read('p')).minSequence).toBeGreaterThan(0);
  });

  test('a store that fails: sequence 0, reported, and never confirmed', async () => {
    const errors: unknown[] = [];
    const fence = new OrderNumberFence({ lastOrderNumber: () => Promise.reject(new Error('down')) }, (err) => errors.push(err));
    const read = await fence.read('p');
    expect(read).toEqual({ minSequence: 0, epoch: -1 });
    expect(errors).toHaveLength(1);
    fence.confirm('p', read);
    await fence.read('p');
    expect(errors).toHaveLength(2);
  });
});
