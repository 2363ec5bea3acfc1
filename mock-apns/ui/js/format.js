// Words and numbers for people: times, sizes, tokens, and what a push is about.

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** 14:03:22.481 */
export function clockTime(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** 14:03, as a phone's status bar and lock screen show the time. */
export function shortTime(ms) {
  const d = new Date(ms);
  return `${d.getHours()}:${pad(d.getMinutes())}`;
}

/** 2024-05-14 14:03:22 */
export function dateTime(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "3 s", "5 min", "2 h", "4 d" */
export function duration(ms) {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${(s / 3600).toFixed(s < 36000 ? 1 : 0)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;
}

export function count(n) {
  return Number(n).toLocaleString('en-US');
}

/** a1b2c3d4…8f90 */
export function shortToken(token) {
  if (!token) return '—';
  return token.length > 16 ? `${token.slice(0, 8)}…${token.slice(-4)}` : token;
}

/** The value at an RFC 6901 JSON pointer, or undefined. */
export function pointer(value, ptr) {
  if (ptr === '') return value;
  if (!ptr.startsWith('/')) return undefined;
  let at = value;
  for (const raw of ptr.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (at == null || typeof at !== 'object' || !Object.hasOwn(at, key)) return undefined;
    at = at[key];
  }
  return at;
}

/** A header of a record (names are lower case). */
export const header = (record, name) => record.headers?.[name];

/**
 * The push type to show: the declared one as sent (even one APNs does not know), else the one
 * the topic's suffix implies (the mock's rule, from its `/api/v1/push_types` table).
 */
export function effectiveType(record, pushTypes) {
  const declared = header(record, 'apns-push-type');
  if (declared != null) return declared;
  const topic = header(record, 'apns-topic') ?? '';
  const bySuffix = pushTypes.find((t) => t.topic_suffix && topic.endsWith(t.topic_suffix) && topic.length > t.topic_suffix.length);
  return bySuffix?.push_type ?? null;
}

/** "Example" for com.example.app, "Chat" for com.acme.chat.voip. */
export function appName(topic, pushTypes) {
  if (!topic) return 'App';
  let bundle = topic;
  for (const t of pushTypes) {
    if (t.topic_suffix && bundle.endsWith(t.topic_suffix)) bundle = bundle.slice(0, -t.topic_suffix.length);
  }
  const parts = bundle.split('.').filter(Boolean);
  let name = parts.at(-1) ?? 'App';
  // com.example.app → "Example": a last word that says nothing takes the one before it.
  if (['app', 'ios', 'mobile', 'client'].includes(name.toLowerCase()) && parts.length > 1) name = parts.at(-2);
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** The payload as text, for sizes, search and the replay command. */
export function payloadText(record) {
  return typeof record.payload === 'string' ? record.payload : JSON.stringify(record.payload);
}

/** Where the caller of a VoIP push is looked for when no pointer was chosen. */
export const CALLER_POINTERS = ['/caller', '/caller_name', '/callerName', '/handle', '/from', '/name', '/caller_id', '/data/caller'];

/** The caller of a VoIP push: at `chosen`, else at the first default pointer that holds one. */
export function caller(payload, chosen) {
  const pointers = chosen ? [chosen] : CALLER_POINTERS;
  for (const ptr of pointers) {
    let v = pointer(payload, ptr);
    if (v && typeof v === 'object') v = v.name ?? v.display_name ?? v.displayName ?? v.handle ?? v.value;
    if (typeof v === 'string' && v.trim()) return { name: v.trim(), from: ptr };
    if (typeof v === 'number') return { name: String(v), from: ptr };
  }
  return null;
}

/** What an alert says: title, subtitle and body, with localization keys shown as keys. */
export function alertText(payload) {
  const alert = payload?.aps?.alert;
  if (typeof alert === 'string') return { body: alert };
  if (!alert || typeof alert !== 'object') return {};
  const keyed = (key, args) => (typeof key === 'string' ? `${key}${Array.isArray(args) && args.length ? ` (${args.join(', ')})` : ''}` : undefined);
  const text = (v) => (typeof v === 'string' ? v : undefined);
  return {
    title: text(alert.title) ?? keyed(alert['title-loc-key'], alert['title-loc-args']),
    subtitle: text(alert.subtitle) ?? keyed(alert['subtitle-loc-key'], alert['subtitle-loc-args']),
    body: text(alert.body) ?? keyed(alert['loc-key'], alert['loc-args']),
    titleKey: typeof alert['title-loc-key'] === 'string' && !text(alert.title),
    subtitleKey: typeof alert['subtitle-loc-key'] === 'string' && !text(alert.subtitle),
    bodyKey: typeof alert['loc-key'] === 'string' && !text(alert.body),
  };
}

/** One line saying what a push is about, for the list. */
export function gist(record, pushType) {
  const p = record.payload;
  if (typeof p === 'string') return p.slice(0, 120);
  if (pushType === 'voip') {
    const who = caller(p, null);
    if (who) return `Incoming call · ${who.name}`;
  }
  const a = alertText(p);
  const words = [a.title, a.body ?? a.subtitle].filter(Boolean);
  if (words.length) return words.join(' — ');
  if (p?.aps?.['content-available'] === 1) return 'Silent · content-available';
  return JSON.stringify(p).slice(0, 120);
}

/** A value in single quotes for a POSIX shell. */
export function shellQuote(s) {
  return `'${String(s).replaceAll("'", "'\\''")}'`;
}

/** A connection's or record's auth as one line: "token · key ABC · team XYZ". */
export function authLine(auth) {
  if (!auth || typeof auth === 'string') return auth ?? 'none';
  const parts = [auth.kind ?? 'none'];
  if (auth.key_id) parts.push(`key ${auth.key_id}`);
  if (auth.team_id) parts.push(`team ${auth.team_id}`);
  if (auth.subject) parts.push(auth.subject);
  return parts.join(' · ');
}
