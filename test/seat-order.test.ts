// Pure tests of seat order (src/domain/seat-order.ts): natural order and the adjacency gaps the
// best-available script relies on (+1 = next seat in the same row, +2 = anything else).
import { adjacent, assignRelativeOrds } from '../src/domain/seat-order';
import type { InventoryTicket } from '../src/domain/types';

const t = (id: string, section?: string, row?: string, seat?: string): InventoryTicket => ({ id, section, row, seat });
const ords = (tickets: InventoryTicket[]) => assignRelativeOrds(tickets).map((x) => [x.id, x.relativeOrd]);

describe('assignRelativeOrds', () => {
  test('natural order: seat 2 before seat 10, row 9 before row 10, then section', () => {
    const out = assignRelativeOrds([
      t('s10', 'A', '1', '10'),
      t('s2', 'A', '1', '2'),
      t('r10', 'A', '10', '1'),
      t('r9', 'A', '9', '1'),
      t('s1', 'A', '1', '1'),
      t('b1', 'B', '1', '1'),
    ]);
    expect(out.map((x) => x.id)).toEqual(['s1', 's2', 's10', 'r9', 'r10', 'b1']);
  });

  test('ords: first 0, next seat in the row +1, a gap in numbers +2, a new row +2, a new section +2', () => {
    expect(
      ords([
        t('A1', 'S', 'A', '1'),
        t('A2', 'S', 'A', '2'),
        t('A3', 'S', 'A', '3'),
        t('A5', 'S', 'A', '5'),
        t('B1', 'S', 'B', '1'),
        t('B2', 'S', 'B', '2'),
        t('T1', 'T', 'B', '3'),
      ]),
    ).toEqual([
      ['A1', 0],
      ['A2', 1],
      ['A3', 2],
      ['A5', 4],
      ['B1', 6],
      ['B2', 7],
      ['T1', 9],
    ]);
  });

  test('tickets without row or seat are never adjacent; ties are broken by id in natural order', () => {
    expect(ords([t('GA10'), t('GA2'), t('GA1')])).toEqual([
      ['GA1', 0],
      ['GA2', 2],
      ['GA10', 4],
    ]);
    expect(ords([t('x1', 'S', 'A'), t('x2', 'S', 'A')]).map(([, o]) => o)).toEqual([0, 2]);
  });

  test('named seats next in order are adjacent; a named seat next to a number is not', () => {
    expect(ords([t('b', 'S', 'A', 'b'), t('a', 'S', 'A', 'a'), t('n', 'S', 'A', '10'), t('m', 'S', 'A', '10A')])).toEqual([
      ['n', 0],
      ['m', 2],
      ['a', 3],
      ['b', 4],
    ]);
  });

  test('keeps every attribute, does not touch its input, empty in empty out', () => {
    const input = [{ id: 'x', section: 'S', row: 'A', seat: '1', price: 100, price_level: 'P' }];
    const out = assignRelativeOrds(input);
    expect(out).toEqual([{ ...input[0], relativeOrd: 0 }]);
    expect(input[0]).not.toHaveProperty('relativeOrd');
    expect(assignRelativeOrds([])).toEqual([]);
  });
});

describe('adjacent', () => {
  test.each([
    [t('a', 'S', 'A', '1'), t('b', 'S', 'A', '2'), true],
    [t('a', 'S', 'A', '2'), t('b', 'S', 'A', '1'), false], // only in seat order
    [t('a', 'S', 'A', '1'), t('b', 'S', 'A', '3'), false],
    [t('a', 'S', 'A', '9'), t('b', 'S', 'A', '10'), true],
    [t('a', 'S', 'A', '1'), t('b', 'S', 'B', '2'), false],
    [t('a', 'S', 'A', '1'), t('b', 'T', 'A', '2'), false],
    [t('a', undefined, 'A', '1'), t('b', undefined, 'A', '2'), true],
    [t('a', 'S', undefined, '1'), t('b', 'S', undefined, '2'), false],
    [t('a', 'S', 'A', '10'), t('b', 'S', 'A', '10A'), false],
  ])('%j then %j: %s', (x, y, expected) => {
    expect(adjacent(x, y)).toBe(expected);
  });
});
