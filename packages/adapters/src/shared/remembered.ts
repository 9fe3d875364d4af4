/**
 * Puts `value` in `map` under `key`, then drops the oldest entry if that made the map larger than
 * `max`: the bounded memory of what a process has worked out once (verified tokens, signed URLs).
 * Map keeps insertion order, so the first key is the oldest one.
 */
export const remember = <K, V>(map: Map<K, V>, key: K, value: V, max: number): V => {
  if (max <= 0) return value;
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value!);
  return value;
};
