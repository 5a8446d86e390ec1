// The pure rules both document store adapters share (src/store/common.ts): who a person is, how a person row is
// made and merged, and how a sale is judged against what the store holds. The store contract suites exercise them
// through SQLite and PostgreSQL; these pin each rule on its own (mutation testing found them loosely held).
import type { Sale, TicketDoc } from '../src/domain/documents';
import {
  distinctTickets,
  judgeSale,
  mergePersonRow,
  newPersonRow,
  orderDocOf,
  personDocOf,
  personIdOf,
  saleDocOf,
  saleTicketIds,
  type PersonRow,
  type SoldTo,
} from '../src/store/common';

const NOW = '2026-05-01T10:00:00.000Z';

function sale(over: Partial<Sale> = {}): Sale {
  const ticket = (id: string) => ({ id, price: 1000, section: 'A', row: '1', seat: id, price_level: 'std' });
  return {
    order_number: 'AAAAA33333',
    transaction_id: 'tx-1',
    performance_id: 'perf-1',
    client: 'alice',
    ip: '10.0.0.1',
    completed_at: '2026-05-01T09:59:59.000Z',
    tickets: [ticket('t1'), ticket('t2')],
    total: 2000,
    customer: undefined,
    payment_reference: undefined,
    ...over,
  };
}

describe('personIdOf', () => {
  test('the trimmed, lower-cased email', () => {
    expect(personIdOf('  Ann.Lee@Example.ORG \t')).toBe('ann.lee@example.org');
  });

  test.each([[undefined], [null], [''], ['   ']])('no usable email (%p): null', (email) => {
    expect(personIdOf(email)).toBeNull();
  });
});

describe('person rows', () => {
  const existing: PersonRow = {
    person_id: 'ann@example.org',
    email: 'Ann@Example.org',
    first_name: 'Ann',
    last_name: 'Lee',
    phone: '+31 20 000',
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
  };

  test('a new row keeps the email as given (trimmed), its unset fields null, created and updated now', () => {
    const row = newPersonRow(sale({ customer: { email: ' Ann@Example.org ', first_name: 'Ann' } }), 'ann@example.org', NOW);
    expect(row).toEqual({
      person_id: 'ann@example.org',
      email: 'Ann@Example.org',
      first_name: 'Ann',
      last_name: null,
      phone: null,
      created_at: NOW,
      updated_at: NOW,
    });
  });

  test('a new row for a sale without a customer: the person id as its email, every field null', () => {
    expect(newPersonRow(sale(), 'ann@example.org', NOW)).toEqual({
      person_id: 'ann@example.org',
      email: 'ann@example.org',
      first_name: null,
      last_name: null,
      phone: null,
      created_at: NOW,
      updated_at: NOW,
    });
  });

  test('a merge takes the names and phone a sale gives and keeps the rest; only updated_at changes otherwise', () => {
    const merged = mergePersonRow(existing, sale({ customer: { email: 'ANN@example.org', last_name: 'Lee-Smith' } }), NOW);
    expect(merged).toEqual({ ...existing, last_name: 'Lee-Smith', updated_at: NOW });
  });

  test('a merge with a sale without a customer changes nothing but updated_at', () => {
    expect(mergePersonRow(existing, sale(), NOW)).toEqual({ ...existing, updated_at: NOW });
  });

  test("the document has the row's fields, missing ones as null, and the order numbers given", () => {
    const row = { ...existing, first_name: undefined, phone: undefined } as unknown as PersonRow;
    expect(personDocOf(row, ['X1', 'X2'])).toEqual({
      person_id: existing.person_id,
      email: existing.email,
      first_name: null,
      last_name: 'Lee',
      phone: null,
      order_numbers: ['X1', 'X2'],
      created_at: existing.created_at,
      updated_at: existing.updated_at,
    });
  });
});

describe('documents of a sale', () => {
  test('the order: customer, person and payment reference null when the sale has none', () => {
    const doc = orderDocOf(sale(), NOW);
    expect(doc).toMatchObject({ customer: null, person_id: null, payment_reference: null, created_at: NOW, client: 'alice', ip: '10.0.0.1' });
  });

  test("the order: the person is the customer's email as a person id", () => {
    const doc = orderDocOf(sale({ customer: { email: ' Bob@X.org' }, payment_reference: 'pay-7' }), NOW);
    expect(doc).toMatchObject({ customer: { email: ' Bob@X.org' }, person_id: 'bob@x.org', payment_reference: 'pay-7' });
  });

  test('a sales row: the ticket as sold, or null when the sale does not carry it', () => {
    const s = sale();
    expect(saleDocOf(s, 't1', s.tickets[0], NOW)).toMatchObject({ ticket_id: 't1', ticket: s.tickets[0], recorded_at: NOW });
    expect(saleDocOf(s, 't9', undefined, NOW).ticket).toBeNull();
  });
});

describe('judgeSale', () => {
  const sold = (entries: [string, SoldTo][]) => new Map(entries);

  test('nothing sold and the number free: new', () => {
    expect(judgeSale(sale(), sold([]), undefined, NOW)).toEqual({ kind: 'new' });
  });

  test('the same order of the same transaction again: a duplicate', () => {
    const mine = { order_number: 'AAAAA33333', transaction_id: 'tx-1' };
    expect(judgeSale(sale(), sold([['t1', mine], ['t2', mine]]), 'tx-1', NOW)).toEqual({ kind: 'duplicate' });
  });

  test('a ticket sold to another order: a conflict naming that ticket and order, the number not taken', () => {
    const judged = judgeSale(sale(), sold([['t2', { order_number: 'OTHER33333', transaction_id: 'tx-9' }]]), undefined, NOW);
    expect(judged).toEqual({
      kind: 'conflict',
      conflict: {
        order_number: 'AAAAA33333',
        transaction_id: 'tx-1',
        performance_id: 'perf-1',
        tickets: [{ id: 't2', sold_to_order: 'OTHER33333' }],
        sale: sale(),
        recorded_at: NOW,
      },
    });
  });

  test('a ticket sold under the same order number by another transaction is not mine: a conflict', () => {
    const judged = judgeSale(sale(), sold([['t1', { order_number: 'AAAAA33333', transaction_id: 'tx-0' }]]), undefined, NOW);
    expect(judged.kind === 'conflict' && judged.conflict.tickets).toEqual([{ id: 't1', sold_to_order: 'AAAAA33333' }]);
  });

  test("the order number taken by another transaction: a conflict that says whose, with no ticket listed", () => {
    const judged = judgeSale(sale(), sold([]), 'tx-0', NOW);
    expect(judged.kind).toBe('conflict');
    if (judged.kind !== 'conflict') return;
    expect(judged.conflict.tickets).toEqual([]);
    expect(judged.conflict.order_number_taken_by).toBe('tx-0');
  });

  test('a ticket id twice in the sale is listed once', () => {
    const s = sale({ tickets: [...sale().tickets, sale().tickets[0]!] });
    const judged = judgeSale(s, sold([['t1', { order_number: 'OTHER33333', transaction_id: 'tx-9' }]]), undefined, NOW);
    expect(judged.kind === 'conflict' && judged.conflict.tickets).toEqual([{ id: 't1', sold_to_order: 'OTHER33333' }]);
    expect(judged.kind === 'conflict' && 'order_number_taken_by' in judged.conflict).toBe(false);
  });
});

describe('ticket lists', () => {
  test("a sale's ticket ids: distinct, sorted", () => {
    const s = sale({ tickets: ['t3', 't1', 't3', 't2'].map((id) => ({ ...sale().tickets[0]!, id })) });
    expect(saleTicketIds(s)).toEqual(['t1', 't2', 't3']);
  });

  test('distinct tickets: the last occurrence of an id wins; a list without repeats comes back as a copy', () => {
    const t = (id: string, price: number): TicketDoc => ({ id, performance_id: 'p', section: '', row: '', seat: '', price, price_level: '', ord: 0 });
    expect(distinctTickets([t('a', 1), t('b', 2), t('a', 3)])).toEqual([t('a', 3), t('b', 2)]);
    const list = [t('a', 1), t('b', 2)];
    const copy = distinctTickets(list);
    expect(copy).toEqual(list);
    expect(copy).not.toBe(list);
  });
});
