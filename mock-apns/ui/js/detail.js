// One push in detail: Preview, Headers, Payload, Auth, Connection, Why, Replay.

import { h, append, fill, icon, toast } from './dom.js';
import { api } from './api.js';
import * as fmt from './format.js';
import { preview } from './preview.js';
import { statusPill, typePill } from './inbox.js';

const TABS = ['Preview', 'Headers', 'Payload', 'Auth', 'Connection', 'Why', 'Replay'];

export function createDetail(ctx) {
  const pane = document.getElementById('detail');
  let tab = localStorage.getItem('mock-apns.tab') ?? 'Preview';
  if (!TABS.includes(tab)) tab = 'Preview';
  let current = null;

  function show(record) {
    current = record;
    pane.classList.toggle('has-push', !!record);
    if (record) pane.dataset.id = record.id;
    else delete pane.dataset.id;
    if (!record) {
      fill(
        pane,
        h('div', { class: 'detail-empty' }, icon('inbox', 'big'), h('p', null, 'Select a push to see it as the phone would.'), h('p', { class: 'muted' }, 'New pushes appear on the left as they arrive.')),
      );
      return;
    }
    const type = fmt.effectiveType(record, ctx.pushTypes);
    const device = ctx.devices.get((record.device_token ?? '').toLowerCase());
    const body = h('div', { class: 'detail-body', id: 'detail-body', role: 'tabpanel' });
    fill(
      pane,
      h(
        'header',
        { class: 'detail-head' },
        h('div', { class: 'detail-title' }, statusPill(record), typePill(type), h('h2', null, fmt.gist(record, type) || `Push #${record.id}`)),
        h(
          'div',
          { class: 'detail-meta' },
          h('span', null, `#${record.id}`),
          h('span', { title: 'received (mock clock)' }, fmt.dateTime(record.received_at)),
          h('span', { title: record.device_token ?? '' }, icon('device'), device?.name ?? fmt.shortToken(record.device_token)),
          h('span', null, record.headers?.['apns-topic'] ?? 'no topic'),
        ),
        h(
          'nav',
          { class: 'tabs', role: 'tablist' },
          TABS.map((name) =>
            h(
              'button',
              {
                class: `tab${name === tab ? ' active' : ''}`,
                role: 'tab',
                type: 'button',
                'aria-selected': String(name === tab),
                dataset: { tab: name },
                onclick: () => {
                  tab = name;
                  localStorage.setItem('mock-apns.tab', tab);
                  show(current);
                },
              },
              name,
            ),
          ),
        ),
      ),
      body,
    );
    const render = { Preview: previewTab, Headers: headersTab, Payload: payloadTab, Auth: authTab, Connection: connectionTab, Why: whyTab, Replay: replayTab }[tab];
    append(body, render(record, type));
  }

  // --- Tabs ----------------------------------------------------------------------------------

  function previewTab(record, type) {
    const pointer = h('input', {
      id: 'caller-pointer',
      class: 'input mono',
      placeholder: fmt.CALLER_POINTERS.slice(0, 3).join(', ') + ' …',
      value: ctx.callerPointer(),
      spellcheck: 'false',
      onchange: (e) => {
        ctx.setCallerPointer(e.target.value.trim());
        show(current);
      },
    });
    const stage = h('div', { class: 'preview-stage' }, preview(record, type, ctx));
    const settings =
      type === 'voip' && record.status === 200
        ? h('label', { class: 'pointer-setting' }, h('span', null, 'Caller from JSON pointer'), pointer, h('small', { class: 'muted' }, `Empty: the first of ${fmt.CALLER_POINTERS.join(', ')} that holds a name.`))
        : null;
    return [stage, settings];
  }

  function headersTab(record) {
    const rows = [
      [':method', record.method],
      [':path', record.path],
      ...Object.entries(record.headers ?? {}),
    ];
    const answered = [
      ['status', record.status === 0 ? 'no answer' : String(record.status)],
      ['apns-id', record.apns_id],
      ['apns-unique-id', record.apns_unique_id],
      ['reason', record.reason],
      ['timestamp', record.timestamp != null ? `${record.timestamp} (${fmt.dateTime(record.timestamp)})` : null],
    ].filter(([, v]) => v != null);
    return [
      section('Request', kvTable(rows.filter(([, v]) => v != null), 'headers-table')),
      section('Answer', kvTable(answered)),
      section('Stream', kvTable([['connection', `#${record.connection_id}`], ['stream id', String(record.stream_id)], ['environment', record.environment]])),
    ];
  }

  function payloadTab(record, type) {
    const limit = ctx.pushTypes.find((t) => t.push_type === type)?.max_payload ?? Math.min(...ctx.pushTypes.map((t) => t.max_payload));
    const ratio = record.payload_size / limit;
    const level = ratio > 1 ? 'over' : ratio > 0.8 ? 'near' : 'ok';
    const text = typeof record.payload === 'string' ? record.payload : JSON.stringify(record.payload, null, 2);
    return [
      h(
        'div',
        { class: `size-meter ${level}` },
        h('div', { class: 'size-label' }, h('b', null, fmt.bytes(record.payload_size)), ` of ${fmt.bytes(limit)} (${record.payload_size} / ${limit} bytes, the ${type === 'voip' ? 'VoIP' : 'standard'} limit)`),
        h('div', { class: 'size-bar' }, meterFill(Math.min(ratio, 1))),
      ),
      typeof record.payload === 'string'
        ? h('div', null, h('p', { class: 'muted' }, 'Not JSON: shown as text.'), h('pre', { class: 'code payload-text' }, text))
        : h('pre', { class: 'code json' }, jsonNodes(record.payload, 0)),
      h('div', { class: 'actions' }, copyButton(text, 'Copy payload')),
    ];
  }

  function authTab(record) {
    const a = record.auth ?? {};
    if (a.kind === 'token') {
      const age = a.iat != null ? record.received_at - a.iat * 1000 : null;
      return section(
        'Provider token (JWT)',
        kvTable([
          ['kind', 'token'],
          ['key id (kid)', a.key_id],
          ['team id (iss)', a.team_id],
          ['issued at (iat)', a.iat != null ? `${a.iat} (${fmt.dateTime(a.iat * 1000)})` : null],
          ['age at this push', age != null ? fmt.duration(age) : null],
          ['token fingerprint', a.token_sha256 ? `${a.token_sha256} (first 16 hex digits of its SHA-256)` : null],
        ]),
        h('p', { class: 'muted' }, 'The signature is never recorded.'),
      );
    }
    if (a.kind === 'certificate') {
      return section('Client certificate', kvTable([['kind', 'certificate'], ['subject', a.subject], ['topics', (a.topics ?? []).join(', ')]]));
    }
    return section('No verified credentials', h('p', null, 'The push was refused before or at authentication.'), record.reason ? h('p', { class: 'muted' }, `${record.reason}: ${ctx.explain(record.reason)}`) : null);
  }

  function connectionTab(record) {
    const box = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
    api(`/api/v1/connections/${record.connection_id}`)
      .then((c) => {
        if (current !== record) return;
        fill(
          box,
          section(
            `Connection #${c.id}`,
            kvTable([
              ['peer', c.peer],
              ['ALPN', c.alpn ?? 'none (HTTP/2 prior knowledge)'],
              ['auth', fmt.authLine(c.auth)],
              ['stream limit at this push', String(record.stream_limit)],
              ['stream limit now', String(c.stream_limit)],
              ['pushes', `${c.pushes_accepted} accepted, ${c.pushes_rejected} rejected`],
              ['opened', fmt.dateTime(c.opened_at)],
              ['closed', c.closed_at ? `${fmt.dateTime(c.closed_at)} — ${c.closed_how ?? ''}` : 'still open'],
            ]),
          ),
        );
      })
      .catch((e) => fill(box, h('p', { class: 'muted' }, `Connection #${record.connection_id}: ${e.message}`)));
    return box;
  }

  function whyTab(record) {
    const parts = [];
    if (record.reason) {
      parts.push(section('Apple\u2019s reason', h('p', null, h('b', null, `${record.status} ${record.reason}`), ' — ', ctx.explain(record.reason))));
    } else if (record.status === 200) {
      parts.push(section('Accepted', h('p', null, 'APNs would answer 200 and deliver this push.')));
    }
    parts.push(section('The mock\u2019s note (detail)', record.detail ? h('p', { class: 'why-detail' }, record.detail) : h('p', { class: 'muted' }, 'None.')));
    parts.push(
      section(
        'Fault rule',
        record.fault
          ? kvTable([['rule', `#${record.fault.rule_id}${record.fault.name ? ` — ${record.fault.name}` : ''}`], ['action', JSON.stringify(record.fault.action)]])
          : h('p', { class: 'muted' }, 'No fault rule changed this push.'),
      ),
    );
    return parts;
  }

  function replayTab(record) {
    const command = replayCommand(record, ctx.health);
    const credentials =
      record.auth?.kind === 'certificate'
        ? 'Set APNS_CERT and APNS_KEY to a client certificate and its key (mock-apns cert issue makes one).'
        : 'Set APNS_JWT to a provider token: the banner prints one, valid for an hour (the record never keeps one).';
    const ca = ctx.health.ca_path ? '' : ' Set APNS_CA to a file holding the mock\u2019s CA certificate.';
    return [
      h('p', { class: 'muted' }, `Resends this push with curl, headers and payload as recorded. ${credentials}${ca}`),
      h('pre', { class: 'code replay', id: 'replay-command' }, command),
      h('div', { class: 'actions' }, copyButton(command, 'Copy command')),
    ];
  }

  return { show };
}

/** `curl` that sends the push again, as recorded (apns-* headers, method, path, payload). */
export function replayCommand(record, health) {
  const q = fmt.shellQuote;
  // A mock whose CA lives only in memory (started from a Rust test) has no file to point at.
  const ca = health.ca_path ? q(health.ca_path) : '"$APNS_CA"';
  const lines = [`curl --http2 --cacert ${ca}`];
  if (record.auth?.kind === 'certificate') lines.push('--cert "$APNS_CERT" --key "$APNS_KEY"');
  else lines.push('-H "authorization: bearer $APNS_JWT"');
  if (record.method !== 'POST') lines.push(`-X ${q(record.method)}`);
  for (const [name, value] of Object.entries(record.headers ?? {})) lines.push(`-H ${q(`${name}: ${value}`)}`);
  lines.push(`--data-binary ${q(fmt.payloadText(record))}`);
  lines.push(`-i ${q(health.apns_url + record.path)}`);
  return lines.join(' \\\n  ');
}

// --- Pieces --------------------------------------------------------------------------------

function section(title, ...content) {
  return h('section', { class: 'card' }, h('h3', null, title), content);
}

function kvTable(rows, cls = '') {
  return h(
    'table',
    { class: `kv ${cls}`.trim() },
    h('tbody', null, rows.filter(([, v]) => v != null && v !== '').map(([k, v]) => h('tr', null, h('th', null, k), h('td', null, h('code', null, v))))),
  );
}

function meterFill(ratio) {
  const el = h('div', { class: 'size-fill' });
  el.style.width = `${(ratio * 100).toFixed(1)}%`;
  return el;
}

function copyButton(text, label) {
  return h(
    'button',
    {
      class: 'btn',
      type: 'button',
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(text);
          toast('Copied');
        } catch {
          toast('The browser refused the clipboard: select the text instead', 'error');
        }
      },
    },
    icon('copy'),
    label,
  );
}

/** Pretty JSON as text nodes in coloured spans: keys, strings, numbers, literals. */
function jsonNodes(value, depth) {
  const indent = '  '.repeat(depth);
  const inner = '  '.repeat(depth + 1);
  if (Array.isArray(value)) {
    if (!value.length) return [h('span', { class: 'j-p' }, '[]')];
    const out = [h('span', { class: 'j-p' }, '['), '\n'];
    value.forEach((v, i) => out.push(inner, ...jsonNodes(v, depth + 1), i < value.length - 1 ? ',' : '', '\n'));
    out.push(indent, h('span', { class: 'j-p' }, ']'));
    return out;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (!entries.length) return [h('span', { class: 'j-p' }, '{}')];
    const out = [h('span', { class: 'j-p' }, '{'), '\n'];
    entries.forEach(([k, v], i) => out.push(inner, h('span', { class: 'j-k' }, JSON.stringify(k)), ': ', ...jsonNodes(v, depth + 1), i < entries.length - 1 ? ',' : '', '\n'));
    out.push(indent, h('span', { class: 'j-p' }, '}'));
    return out;
  }
  const cls = typeof value === 'string' ? 'j-s' : typeof value === 'number' ? 'j-n' : 'j-l';
  return [h('span', { class: cls }, JSON.stringify(value))];
}
