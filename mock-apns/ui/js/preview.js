// How the phone would present a push, drawn by the UI (no Apple artwork): an alert as a
// lock-screen banner, a VoIP push as the incoming-call screen, a background push as the silent
// wake-up it is; a rejected push shows Apple's reason instead, since no phone ever sees it.

import { h, icon } from './dom.js';
import * as fmt from './format.js';

export function preview(record, type, ctx) {
  if (record.status !== 200) return rejected(record, ctx);
  const payload = typeof record.payload === 'object' && record.payload !== null ? record.payload : {};
  const app = fmt.appName(record.headers?.['apns-topic'], ctx.pushTypes);
  if (type === 'voip') return incomingCall(record, payload, app, ctx);
  const aps = payload.aps ?? {};
  const alert = fmt.alertText(payload);
  if ((type === 'alert' || type == null) && (alert.title || alert.body || alert.subtitle)) return lockScreen(record, payload, app);
  if (type === 'background' || (aps['content-available'] === 1 && !alert.body && !alert.title)) return silent(record, app, 'background');
  return silent(record, app, type ?? 'alert');
}

/** A phone outline with a status bar; `screen` is what it shows. */
function phone(record, kind, ...screen) {
  const time = fmt.shortTime(record.received_at);
  return h(
    'div',
    { class: `phone phone-${kind}` },
    h(
      'div',
      { class: 'phone-screen' },
      h('div', { class: 'island' }),
      h('div', { class: 'statusbar' }, h('span', { class: 'sb-time' }, kind === 'lock' ? '' : time), h('span', { class: 'sb-icons' }, h('i', { class: 'sb-signal' }), h('i', { class: 'sb-wifi' }), h('i', { class: 'sb-battery' }))),
      screen,
      h('div', { class: 'home-bar' }),
    ),
  );
}

function lockScreen(record, payload, app) {
  const aps = payload.aps ?? {};
  const alert = fmt.alertText(payload);
  const d = new Date(record.received_at);
  const date = d.toLocaleDateString('en-US', { weekday: 'long', month: 'long', day: 'numeric' });
  const time = fmt.shortTime(record.received_at);
  const badge = Number.isInteger(aps.badge) && aps.badge > 0 ? h('span', { class: 'badge', title: 'badge' }, String(aps.badge)) : null;
  const keyed = (text, isKey) => (isKey ? h('code', { class: 'loc-key', title: 'localization key: the app\u2019s strings file supplies the text' }, text) : text);
  const banner = h(
    'div',
    { class: 'notification', role: 'article' },
    h('div', { class: 'app-icon' }, app.charAt(0), badge),
    h(
      'div',
      { class: 'notification-text' },
      h('div', { class: 'notification-head' }, h('span', { class: 'app-name' }, app), h('span', { class: 'when' }, 'now')),
      alert.title ? h('div', { class: 'n-title' }, keyed(alert.title, alert.titleKey)) : null,
      alert.subtitle ? h('div', { class: 'n-subtitle' }, keyed(alert.subtitle, alert.subtitleKey)) : null,
      alert.body ? h('div', { class: 'n-body' }, keyed(alert.body, alert.bodyKey)) : null,
    ),
  );
  const stacked = aps['thread-id'] ? h('div', { class: 'stack-hint' }) : null;
  const screen = h(
    'div',
    { class: 'lock' },
    h('div', { class: 'lock-date' }, date),
    h('div', { class: 'lock-time' }, time),
    h('div', { class: 'lock-list' }, banner, stacked),
    h('div', { class: 'lock-buttons', 'aria-hidden': 'true' }, h('span', null, icon('flashlight')), h('span', null, icon('camera'))),
  );
  const facts = [
    ['App', app],
    ['Badge', aps.badge],
    ['Sound', typeof aps.sound === 'object' ? JSON.stringify(aps.sound) : aps.sound],
    ['Thread', aps['thread-id']],
    ['Category', aps.category],
    ['Interruption', aps['interruption-level']],
    ['Relevance', aps['relevance-score']],
    ['Service extension', aps['mutable-content'] === 1 ? 'may rewrite it (mutable-content)' : null],
    ['Collapse id', record.headers?.['apns-collapse-id']],
  ];
  return [phone(record, 'lock', screen), factList(facts)];
}

function incomingCall(record, payload, app, ctx) {
  const who = fmt.caller(payload, ctx.callerPointer() || null);
  const name = who?.name ?? 'Unknown caller';
  const initials = name
    .split(/\s+/)
    .map((w) => w.charAt(0))
    .join('')
    .slice(0, 2)
    .toUpperCase();
  const screen = h(
    'div',
    { class: 'call' },
    h(
      'div',
      { class: 'call-top' },
      h('div', { class: 'call-app' }, `${app} Audio`),
      h('div', { class: 'caller', dataset: { pointer: who?.from ?? '' } }, name),
      h('div', { class: 'call-sub' }, 'incoming call'),
    ),
    h('div', { class: 'avatar' }, who ? initials : icon('user')),
    h(
      'div',
      { class: 'call-actions' },
      h('div', { class: 'call-small' }, h('span', null, icon('alarm'), 'Remind Me'), h('span', null, icon('message'), 'Message')),
      h(
        'div',
        { class: 'call-buttons' },
        h('div', { class: 'call-btn decline' }, h('span', { class: 'disc' }, icon('phone', 'down')), 'Decline'),
        h('div', { class: 'call-btn accept' }, h('span', { class: 'disc' }, icon('phone')), 'Accept'),
      ),
    ),
  );
  const facts = [
    ['Caller', who ? `${name} (from ${who.from})` : 'no caller found in the payload'],
    // What the phone took as the call, else the first of the mock's own pointers that holds one.
    ['Call id', stringy(record.delivery?.call ?? firstAt(payload, ctx.health.call_id_pointers ?? []))],
    ['Delivered to', 'PushKit; the app reports the call to CallKit'],
    ['Priority', record.headers?.['apns-priority'] ?? '10 (default)'],
    ['Expiration', record.headers?.['apns-expiration']],
  ];
  return [phone(record, 'call', screen), factList(facts)];
}

function silent(record, app, type) {
  const aps = record.payload?.aps ?? {};
  const what = {
    background: 'Silent — wakes the app in the background',
    liveactivity: 'Updates a Live Activity',
    location: 'Asks the app\u2019s location extension for a location',
    complication: 'Updates a watch complication',
    fileprovider: 'Signals the File Provider extension',
    widgets: 'Reloads the app\u2019s widgets',
    controls: 'Reloads the app\u2019s controls',
    pushtotalk: 'Push to Talk: wakes the app to play audio',
    mdm: 'Tells the device to check in with its MDM server',
  }[type] ?? 'Delivered to the app; shows nothing by itself';
  const screen = h(
    'div',
    { class: 'silent' },
    h('div', { class: 'silent-card' }, h('div', { class: 'silent-icon' }, icon(type === 'background' ? 'moon' : 'layers')), h('div', { class: 'silent-title' }, what), h('div', { class: 'silent-sub' }, `${app} · no alert, no sound`)),
  );
  const facts = [
    ['App', app],
    ['Push type', type],
    ['content-available', aps['content-available']],
    ['Priority', record.headers?.['apns-priority'] ?? '10 (default)'],
  ];
  return [phone(record, 'silent', screen), factList(facts)];
}

function rejected(record, ctx) {
  const noAnswer = record.status === 0;
  return h(
    'div',
    { class: `rejection ${noAnswer ? 'no-answer' : ''}` },
    h('div', { class: 'rejection-code' }, noAnswer ? 'No answer' : String(record.status)),
    h('div', { class: 'rejection-reason' }, noAnswer ? 'The stream got no HTTP answer' : record.reason ?? 'Rejected'),
    record.reason ? h('p', { class: 'rejection-explanation' }, ctx.explain(record.reason)) : null,
    record.detail ? h('p', { class: 'rejection-detail' }, h('span', { class: 'muted' }, 'The mock: '), record.detail) : null,
    h('p', { class: 'muted' }, 'APNs refused this push: no device will see it.'),
  );
}

function factList(facts) {
  return h(
    'dl',
    { class: 'facts' },
    facts.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => [h('dt', null, k), h('dd', null, String(v))]),
  );
}

const firstAt = (payload, pointers) => pointers.map((p) => fmt.pointer(payload, p)).find((v) => v != null);

const stringy = (v) => (v == null ? null : typeof v === 'string' ? v : JSON.stringify(v));
