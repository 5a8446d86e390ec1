// Order numbers: 5 characters of the performance's number, then at least 5 of its order sequence, in an alphabet
// without look-alike characters. lua/complete.lua makes them; this reads them back (rehydrate, the order-number
// fence and recovery).
import type { DocumentStore } from './documents';

export const ORDER_ALPHABET = '34679ACDEFGHJKMNPQRTVWXY';
const CODE_WIDTH = 5;

function decode(chars: string): number {
  let n = 0;
  for (const ch of chars) {
    const digit = ORDER_ALPHABET.indexOf(ch);
    if (digit < 0) throw new Error(`not an order number character: ${ch}`);
    n = n * ORDER_ALPHABET.length + digit;
  }
  return n;
}

/** The highest order sequence the document store holds for a performance (0 = none), and its order number. */
export async function storedOrderSequence(
  documents: Pick<DocumentStore, 'lastOrderNumber'>,
  performanceId: string,
): Promise<{ sequence: number; orderNumber: string | undefined }> {
  const orderNumber = await documents.lastOrderNumber(performanceId);
  return { sequence: orderNumber === undefined ? 0 : decodeOrderNumber(orderNumber).sequence, orderNumber };
}

export function decodeOrderNumber(orderNumber: string): { code: number; sequence: number } {
  return { code: decode(orderNumber.slice(0, CODE_WIDTH)), sequence: decode(orderNumber.slice(CODE_WIDTH)) };
}
