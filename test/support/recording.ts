// A store seen through a wrapper that records the calls of one method (to count a domain function's writes) and
// otherwise is the store itself: the real method still runs, and every other member is the target's own.
type Method = (...args: never[]) => unknown;

export function recordingCalls<T extends object, K extends keyof T>(
  target: T,
  method: K,
  record: (...args: T[K] extends Method ? Parameters<T[K]> : never) => void,
): T {
  return new Proxy(target, {
    get(store, name) {
      const value = Reflect.get(store, name, store) as unknown;
      if (typeof value !== 'function') return value;
      if (name !== method) return value.bind(store);
      return (...args: T[K] extends Method ? Parameters<T[K]> : never) => {
        record(...args);
        return (value as (...a: unknown[]) => unknown).apply(store, args);
      };
    },
  });
}
