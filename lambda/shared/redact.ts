/** Keeps secrets (spec values) out of messages that reach logs and CloudFormation's status reasons. */

/** Shorter values are too likely to be ordinary words or numbers of the message itself. */
const MIN_REDACTED_LENGTH = 4;
const MASK = '***';

/** Every string leaf of a spec (the values a user may put secrets in). */
export function specValues(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [];
  if (Array.isArray(value)) return value.flatMap(specValues);
  if (value && typeof value === 'object') return Object.values(value).flatMap(specValues);
  return [];
}

/** The text with every occurrence of each secret replaced by `***`, longest first. */
export function redact(text: string, secrets: string[]): string {
  const candidates = [...new Set(secrets.filter(s => s.length >= MIN_REDACTED_LENGTH))].sort((a, b) => b.length - a.length);
  let result = text;
  for (const secret of candidates) {
    result = result.split(secret).join(MASK);
  }
  return result;
}
