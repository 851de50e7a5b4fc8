/** At most `max` characters of a text, JSON-quoted, for messages: a 1 MiB value must not become a 1 MiB reason. */
export function quoted(text: string, max = 60): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
