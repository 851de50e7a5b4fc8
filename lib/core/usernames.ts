/**
 * When two Kubernetes usernames can be the same name at login. A username may hold variables the
 * authenticator fills in then (`{{SessionName}}`, `{{AccessKeyID}}`…): whoever assumes a role
 * picks the session name, so `user:{{SessionName}}` is `user:alice` for session "alice". A tag's
 * username must not be able to become anyone else's; `UsernameIndex` answers that for thousands
 * of principals without comparing every pair.
 */

/** A `{{…}}` the authenticator fills in at login. */
const LOGIN_VARIABLE = /\{\{[A-Za-z0-9]+\}\}/;
const LOGIN_VARIABLES = new RegExp(LOGIN_VARIABLE.source, 'g');

/** The text before the first variable: every name the username renders to starts with it. */
const fixedStart = (name: string): string => {
  const i = name.indexOf('{{');
  return i === -1 ? name : name.slice(0, i);
};

/** Every name a username renders to, as a regular expression (each variable: any text). */
function patternOf(name: string): RegExp {
  const body = name
    .split(LOGIN_VARIABLES)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.+');
  return new RegExp(`^${body}$`, 's');
}

/**
 * Whether two usernames can be the same name at login. Two templates are compared by their fixed
 * ends (the text before the first and after the last variable): when neither pair rules it out,
 * they may meet — an over-approximation, on the safe side (the tag's username is then refused).
 */
export function usernamesMayMeet(a: string, b: string): boolean {
  const fa = fixedStart(a);
  const fb = fixedStart(b);
  if (!(fa.startsWith(fb) || fb.startsWith(fa))) return false;
  const va = LOGIN_VARIABLE.test(a);
  const vb = LOGIN_VARIABLE.test(b);
  if (!va && !vb) return a === b;
  if (!vb) return patternOf(a).test(b);
  if (!va) return patternOf(b).test(a);
  const ends = (n: string): [string, string] => {
    const parts = n.split(LOGIN_VARIABLES);
    return [parts[0]!, parts[parts.length - 1]!];
  };
  const [pa, sa] = ends(a);
  const [pb, sb] = ends(b);
  return (pa.startsWith(pb) || pb.startsWith(pa)) && (sa.endsWith(sb) || sb.endsWith(sa));
}

/** Who uses a username: an identity key (absent when unknown); `where` for an entry the syncer does not own. */
export interface UsernameUser {
  id?: string;
  where?: string;
}

/** Insert into / remove from a sorted list of distinct strings. */
function lowerBound(list: readonly string[], s: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
const insertSorted = (list: string[], s: string): void => {
  const i = lowerBound(list, s);
  if (list[i] !== s) list.splice(i, 0, s);
};
const removeSorted = (list: string[], s: string): void => {
  const i = lowerBound(list, s);
  if (list[i] === s) list.splice(i, 1);
};

/**
 * The usernames in use. Fixed names are found by exact lookup; templates by the text before their
 * first variable (a fixed name can only be rendered by a template whose fixed start is a prefix
 * of it). Work per question: the length of the name, plus the names that share its fixed start.
 */
export class UsernameIndex {
  /** username → its users */
  private readonly users = new Map<string, UsernameUser[]>();
  /** Fixed names, sorted (templates ask which of them start with their fixed start). */
  private readonly fixed: string[] = [];
  /** Template fixed start → templates, and those starts sorted. */
  private readonly templates = new Map<string, Set<string>>();
  private readonly starts: string[] = [];

  add(name: string, user: UsernameUser): void {
    const list = this.users.get(name);
    if (list) {
      list.push(user);
      return;
    }
    this.users.set(name, [user]);
    if (!LOGIN_VARIABLE.test(name)) insertSorted(this.fixed, name);
    else {
      const start = fixedStart(name);
      const set = this.templates.get(start);
      if (set) set.add(name);
      else {
        this.templates.set(start, new Set([name]));
        insertSorted(this.starts, start);
      }
    }
  }

  /** Forget one user of a name (a principal whose username changed). */
  remove(name: string, id: string): void {
    const list = this.users.get(name)?.filter((u) => u.id !== id);
    if (list === undefined) return;
    if (list.length > 0) {
      this.users.set(name, list);
      return;
    }
    this.users.delete(name);
    if (!LOGIN_VARIABLE.test(name)) removeSorted(this.fixed, name);
    else {
      const start = fixedStart(name);
      const set = this.templates.get(start)!;
      set.delete(name);
      if (set.size === 0) {
        this.templates.delete(start);
        removeSorted(this.starts, start);
      }
    }
  }

  /** A username someone other than `self` uses that `name` can be the same as, and its users. */
  meets(name: string, self: string): { name: string; user: UsernameUser } | undefined {
    const other = (candidate: string): { name: string; user: UsernameUser } | undefined => {
      const user = this.users.get(candidate)?.find((u) => u.id !== self);
      return user && usernamesMayMeet(name, candidate) ? { name: candidate, user } : undefined;
    };
    const start = fixedStart(name);
    const template = LOGIN_VARIABLE.test(name);
    // Fixed names: this one exactly; or, for a template, those starting with its fixed start.
    if (!template) {
      const hit = other(name);
      if (hit) return hit;
    } else {
      for (let i = lowerBound(this.fixed, start); i < this.fixed.length && this.fixed[i]!.startsWith(start); i++) {
        const hit = other(this.fixed[i]!);
        if (hit) return hit;
      }
    }
    // Templates whose fixed start is a prefix of this one's…
    for (let k = 0; k <= start.length; k++) {
      for (const t of this.templates.get(start.slice(0, k)) ?? []) {
        const hit = other(t);
        if (hit) return hit;
      }
    }
    // …and, for a template, those whose fixed start extends it.
    if (template) {
      for (let i = lowerBound(this.starts, start); i < this.starts.length && this.starts[i]!.startsWith(start); i++) {
        if (this.starts[i] === start) continue;
        for (const t of this.templates.get(this.starts[i]!)!) {
          const hit = other(t);
          if (hit) return hit;
        }
      }
    }
    return undefined;
  }
}
