/**
 * What-if, bench only (not product code): a strict reader for exactly the block YAML that the
 * syncer's renderer writes (`- key: scalar`, `  key:` + `    - scalar` lines, `  key: []`), with
 * plain scalars limited to ones YAML 1.1 / go-yaml v2 can only read as strings. Anything else
 * returns undefined, meaning "use the full YAML 1.1 parser". The plan section times it against
 * the product's parseYaml11 on the same text and checks that both read the same value; it is
 * the evidence behind the recommended fast path.
 */
const KEY = /^[A-Za-z][A-Za-z0-9_]*$/;
// A plain scalar that go-yaml v2 reads as a string: starts with a letter, no spaces, no
// indicators that could start a comment, a flow collection or a quoted string.
const SAFE = /^[A-Za-z][A-Za-z0-9_.:/=+@{}-]*$/;
const SPECIAL = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL)$/;

function scalar(s) {
  if (!SAFE.test(s) || SPECIAL.test(s) || s.endsWith(':')) return undefined;
  return s;
}

export function fastReadRendered(text) {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out = [];
  let entry;
  let list;
  // `key:` with nothing under it is null in YAML, not an empty list: leave that to the parser.
  const closeList = () => list === undefined || list.length > 0;
  for (const line of lines) {
    if (line.startsWith('- ') || line.startsWith('  ')) {
      let body;
      if (line.startsWith('- ')) {
        if (!closeList()) return undefined;
        entry = {};
        out.push(entry);
        list = undefined;
        body = line.slice(2);
      } else if (line.startsWith('    - ')) {
        if (!list) return undefined;
        const v = scalar(line.slice(6));
        if (v === undefined) return undefined;
        list.push(v);
        continue;
      } else {
        if (!entry || !closeList()) return undefined;
        body = line.slice(2);
        list = undefined;
      }
      const colon = body.indexOf(':');
      if (colon <= 0) return undefined;
      const k = body.slice(0, colon);
      if (!KEY.test(k) || Object.prototype.hasOwnProperty.call(entry, k)) return undefined;
      const rest = body.slice(colon + 1);
      if (rest === '') {
        list = [];
        entry[k] = list;
      } else if (rest === ' []') {
        entry[k] = [];
      } else {
        if (!rest.startsWith(' ')) return undefined;
        const v = scalar(rest.slice(1));
        if (v === undefined) return undefined;
        entry[k] = v;
      }
    } else {
      return undefined;
    }
  }
  if (!closeList()) return undefined;
  return out;
}
