import { distance } from 'fastest-levenshtein';

/**
 * The name in `known` closest to `name` when it is close enough to be a typo of it (a different case, or at most a
 * third of its letters changed, at least one); undefined otherwise.
 */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const d = candidate.toLowerCase() === name.toLowerCase() ? 0 : distance(name, candidate);
    if (!best || d < best.distance) best = { name: candidate, distance: d };
  }
  const allowed = Math.max(1, Math.floor(name.length / 3));
  return best && best.distance <= allowed ? best.name : undefined;
}
