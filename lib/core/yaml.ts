/**
 * YAML as the authenticator reads it. aws-iam-authenticator converts each aws-auth key with
 * sigs.k8s.io/yaml (go-yaml, YAML 1.1) before json.Unmarshal, so `on`, `yes`, `012` or `1:20`
 * are not strings there. Parsing and rendering both use the YAML 1.1 schema, so that what we
 * read is what the authenticator reads, and every string we write stays a string.
 */
import { parseDocument, stringify } from 'yaml';

/** Parse one aws-auth key. Throws with the parser's message when the text is not YAML. */
export function parseYaml11(text: string): unknown {
  const doc = parseDocument(text, { version: '1.1', uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new Error(doc.errors.map((e) => e.message.split('\n')[0]).join('; '));
  }
  return doc.toJS({ maxAliasCount: 100 });
}

/** Render a value as YAML 1.1 with a serializer; never by string concatenation. */
export function renderYaml11(value: unknown): string {
  return stringify(value, { version: '1.1', lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false });
}
