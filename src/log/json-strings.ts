/** What a number becomes: itself when unchanged, else any JSON value (the scrubber puts a string in its place). */
export type NumberMap = (value: number) => unknown;

/**
 * `value` with `map` applied to every string in it, object keys included; strings shorter than `minLength` are
 * left alone without a call; `mapNumber`, when given, sees every number. Unchanged parts are shared, not copied,
 * and when nothing changes the very same value comes back: the common case costs one walk and no allocation.
 */
export function mapJsonStrings<T>(value: T, map: (text: string) => string, minLength = 0, mapNumber?: NumberMap): T {
  return mapValue(value, map, minLength, mapNumber) as T;
}

function mapValue(value: unknown, map: (text: string) => string, minLength: number, mapNumber: NumberMap | undefined): unknown {
  if (typeof value === 'string') return value.length < minLength ? value : map(value);
  if (value === null || typeof value !== 'object') return mapNumber !== undefined && typeof value === 'number' ? mapNumber(value) : value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const mapped = mapValue(item, map, minLength, mapNumber);
      if (mapped !== item) (copy ??= value.slice())[i] = mapped;
    }
    return copy ?? value;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    // toJSON decides what is serialised (e.g. Date): scrub that, as JSON.stringify would see it.
    const serialised: unknown = toJSON.call(value);
    const mapped = mapValue(serialised, map, minLength, mapNumber);
    return mapped === serialised ? value : mapped;
  }
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  let index = 0;
  // for…in over plain JSON objects: no inherited enumerable keys, and V8 caches the key list (cheaper than Object.keys).
  for (const key in record) {
    const item = record[key];
    const mappedKey = key.length < minLength ? key : map(key);
    const mapped = mapValue(item, map, minLength, mapNumber);
    if (copy) {
      setOwn(copy, mappedKey, mapped);
    } else if (mappedKey !== key || mapped !== item) {
      copy = {};
      let j = 0;
      for (const earlier in record) {
        if (j++ === index) break;
        setOwn(copy, earlier, record[earlier]);
      }
      setOwn(copy, mappedKey, mapped);
    }
    index++;
  }
  return copy ?? value;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // JSON.parse makes "__proto__" an own property; a plain assignment would set the prototype instead.
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
