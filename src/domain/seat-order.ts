// Seat order within an inventory batch: section, row, seat in natural order ("2" before "10").
// Relative ords of seats next to each other in one row differ by 1; every other neighbour by 2, so the
// best-available script can see adjacency from consecutive scores alone.
import type { InventoryTicket } from './types';

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

export function assignRelativeOrds(tickets: readonly InventoryTicket[]): (InventoryTicket & { relativeOrd: number })[] {
  const sorted = [...tickets].sort(
    (a, b) =>
      collator.compare(a.section ?? '', b.section ?? '') ||
      collator.compare(a.row ?? '', b.row ?? '') ||
      collator.compare(a.seat ?? '', b.seat ?? '') ||
      collator.compare(a.id, b.id),
  );
  let ord = -2;
  let prev: InventoryTicket | undefined;
  return sorted.map((t) => {
    ord += prev && adjacent(prev, t) ? 1 : 2;
    prev = t;
    return { ...t, relativeOrd: ord };
  });
}

/** Same section and row, and seats one apart (numbered seats) or next in order (named seats). */
export function adjacent(a: InventoryTicket, b: InventoryTicket): boolean {
  if (!a.row || !b.row || !a.seat || !b.seat) return false;
  if ((a.section ?? '') !== (b.section ?? '') || a.row !== b.row) return false;
  const [x, y] = [Number(a.seat), Number(b.seat)];
  if (/^\d+$/.test(a.seat) && /^\d+$/.test(b.seat)) return y - x === 1;
  return Number.isNaN(x) && Number.isNaN(y);
}
