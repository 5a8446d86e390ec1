// Order numbers: 5 characters of the performance's number, then at least 5 of its order sequence, in an alphabet
// without look-alike characters. lua/complete.lua makes them; this reads them back (for rehydrate).
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

export function decodeOrderNumber(orderNumber: string): { code: number; sequence: number } {
  return { code: decode(orderNumber.slice(0, CODE_WIDTH)), sequence: decode(orderNumber.slice(CODE_WIDTH)) };
}
