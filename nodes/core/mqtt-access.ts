import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Who may connect, publish and subscribe on the embedded broker. Pure rules, no I/O.
 * Rule lines: `allow <user|*> <publish|subscribe|both> <topic filter>`; once any rule
 * exists, whatever no rule allows is denied.
 */

export type AccessAction = 'publish' | 'subscribe';

export interface AccessRule {
  user: string; // '*' = any authenticated or anonymous client
  actions: AccessAction[];
  filter: string;
}

export function parseAccessRules(text: string): AccessRule[] {
  const rules: AccessRule[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const parts = line.split(/\s+/);
    const [verb, user, action, filter] = parts;
    if (parts.length !== 4 || verb !== 'allow' || !['publish', 'subscribe', 'both'].includes(action)) {
      throw new Error(
        `access rule ${index + 1} "${line}" must read: allow <user|*> <publish|subscribe|both> <topic filter>`,
      );
    }
    if (!isValidFilter(filter))
      throw new Error(`access rule ${index + 1}: "${filter}" is not a valid MQTT topic filter`);
    const actions: AccessAction[] = action === 'both' ? ['publish', 'subscribe'] : [action as AccessAction];
    rules.push({ user, actions, filter });
  });
  return rules;
}

export function isValidFilter(filter: string): boolean {
  const levels = filter.split('/');
  return levels.every((level, i) => {
    if (level === '#') return i === levels.length - 1;
    if (level === '+') return true;
    return !level.includes('#') && !level.includes('+');
  });
}

/** Does a concrete topic match a filter with + and # wildcards? */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Is `requested` (a subscription filter) fully inside `allowed`? */
export function filterWithin(allowed: string, requested: string): boolean {
  const a = allowed.split('/');
  const r = requested.split('/');
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '#') return true;
    if (i >= r.length) return false;
    if (r[i] === '#') return false;
    if (a[i] === '+') continue;
    if (r[i] === '+' || a[i] !== r[i]) return false;
  }
  return a.length === r.length;
}

export function isAllowed(
  rules: AccessRule[],
  user: string | undefined,
  action: AccessAction,
  topic: string,
): boolean {
  if (rules.length === 0) return true;
  return rules.some(
    (rule) =>
      (rule.user === '*' || rule.user === user) &&
      rule.actions.includes(action) &&
      (action === 'publish' ? topicMatches(rule.filter, topic) : filterWithin(rule.filter, topic)),
  );
}

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.replace(/^::ffff:/i, '');
  return a === '::1' || /^127\.\d+\.\d+\.\d+$/.test(a);
}

/**
 * Does a CONNECT's user name and password match the configured ones? Compared as SHA-256
 * digests with timingSafeEqual: the time taken tells nothing about how much of a guess was
 * right, nor the length of the password.
 */
export function credentialsMatch(
  given: { username: string; password: Buffer | string | undefined },
  expected: { username: string; password: string },
): boolean {
  const digest = (value: Buffer | string) => createHash('sha256').update(value).digest();
  const userOk = timingSafeEqual(digest(given.username), digest(expected.username));
  const passwordOk = timingSafeEqual(digest(given.password ?? ''), digest(expected.password));
  return userOk && passwordOk;
}

/**
 * The address a client really comes from: behind a reverse proxy on this host a WebSocket
 * arrives from loopback, and only the proxy's X-Forwarded-For / Forwarded header says from where.
 */
export function clientAddress(
  socketAddress: string | undefined,
  headers: Record<string, string | string[] | undefined> | undefined,
): string | undefined {
  const header = (name: string) => {
    const v = headers?.[name];
    return Array.isArray(v) ? v.join(',') : v;
  };
  const forwardedFor = header('x-forwarded-for')?.split(',')[0]?.trim();
  if (forwardedFor) return forwardedFor;
  const forwarded = /for="?\[?([^\]";,]+)/i.exec(header('forwarded') ?? '')?.[1];
  return forwarded ?? socketAddress;
}
