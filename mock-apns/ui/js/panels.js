// Control panels over the admin API: devices, fault rules, connections, the clock.

import { h, fill, icon, toast } from './dom.js';
import { api } from './api.js';
import * as fmt from './format.js';

/** Runs an admin call, says how it went, and refreshes the panel. */
async function act(what, call, then) {
  try {
    const answer = await call();
    toast(what);
    await then?.(answer);
    return answer;
  } catch (e) {
    toast(`${e.message}`, 'error');
    return null;
  }
}

function panelHead(title, text, ...actions) {
  return h('header', { class: 'panel-head' }, h('div', null, h('h1', null, title), h('p', { class: 'muted' }, text)), h('div', { class: 'panel-actions' }, actions));
}

const field = (label, input, hint) => h('label', { class: 'field' }, h('span', null, label), input, hint ? h('small', { class: 'muted' }, hint) : null);

// --- Devices ---------------------------------------------------------------------------------

export function devicesPanel(ctx) {
  const root = document.getElementById('view-devices');
  const token = h('input', { class: 'input mono', id: 'dev-token', placeholder: '64 hex digits', required: true, spellcheck: 'false', autocomplete: 'off' });
  const name = h('input', { class: 'input', id: 'dev-name', placeholder: 'Bob\u2019s iPhone', autocomplete: 'off' });
  const topic = h('input', { class: 'input mono', id: 'dev-topic', placeholder: 'any topic', spellcheck: 'false', autocomplete: 'off' });
  const env = h('select', { class: 'input', id: 'dev-env' }, h('option', { value: '' }, 'either'), h('option', { value: 'development' }, 'development'), h('option', { value: 'production' }, 'production'));
  const list = h('div', { class: 'table-wrap' });

  const form = h(
    'form',
    {
      class: 'card form-grid',
      id: 'device-form',
      onsubmit: async (e) => {
        e.preventDefault();
        const body = { name: name.value.trim() || undefined, topic: topic.value.trim() || undefined, environment: env.value || undefined };
        const t = token.value.trim().toLowerCase();
        await act(`Registered ${body.name ?? fmt.shortToken(t)}`, () => api(`/api/v1/devices/${encodeURIComponent(t)}`, { method: 'PUT', body }), async () => {
          form.reset();
          await refresh();
        });
      },
    },
    h('h3', null, 'Register a device'),
    field('Device token', token),
    field('Name', name, 'Shown in the inbox instead of the token'),
    field('Topic', topic, 'Pushes on another topic get DeviceTokenNotForTopic'),
    field('Environment', env, 'A token of the other environment gets BadDeviceToken'),
    h('div', { class: 'form-actions' }, h('button', { class: 'btn primary', type: 'submit', id: 'dev-register' }, icon('check'), 'Register')),
  );

  async function unregister(t, timestamp) {
    const q = timestamp ? `?timestamp=${encodeURIComponent(timestamp)}` : '';
    await act(`Unregistered ${fmt.shortToken(t)}: its pushes now get 410`, () => api(`/api/v1/devices/${encodeURIComponent(t)}${q}`, { method: 'DELETE' }), refresh);
  }

  async function refresh() {
    await ctx.loadDevices();
    const rows = [...ctx.devices];
    fill(
      list,
      rows.length
        ? h(
            'table',
            { class: 'grid', id: 'devices-table' },
            h('thead', null, h('tr', null, ['Name', 'Token', 'Topic', 'Environment', 'State', ''].map((t) => h('th', null, t)))),
            h(
              'tbody',
              null,
              rows.map(([t, d]) => {
                const when = h('input', { class: 'input mono small', placeholder: 'now (epoch ms)', title: 'Unregistered at (epoch ms on the mock clock); empty: now', inputmode: 'numeric' });
                return h(
                  'tr',
                  { dataset: { token: t } },
                  h('td', null, d.name ? h('b', null, d.name) : h('span', { class: 'muted' }, '—')),
                  h('td', null, h('code', { title: t }, fmt.shortToken(t))),
                  h('td', null, d.topic ? h('code', null, d.topic) : h('span', { class: 'muted' }, 'any')),
                  h('td', null, d.environment ?? h('span', { class: 'muted' }, 'either')),
                  h('td', null, d.unregistered_at ? h('span', { class: 'status status-warn' }, h('span', { class: 'status-code' }, '410'), h('span', { class: 'status-reason' }, `since ${fmt.dateTime(d.unregistered_at)}`)) : h('span', { class: 'status status-ok' }, h('span', { class: 'status-code' }, 'active'))),
                  h(
                    'td',
                    { class: 'row-actions' },
                    d.unregistered_at
                      ? h('button', { class: 'btn small', type: 'button', onclick: () => act('Registered again', () => api(`/api/v1/devices/${t}`, { method: 'PUT', body: { name: d.name, topic: d.topic, environment: d.environment } }), refresh) }, 'Register again')
                      : [when, h('button', { class: 'btn small danger', type: 'button', onclick: () => unregister(t, when.value.trim()) }, 'Unregister')],
                  ),
                );
              }),
            ),
          )
        : h('div', { class: 'empty-state' }, icon('device', 'big'), h('p', null, 'No registered devices.'), h('p', { class: 'muted' }, 'Unregistered tokens are accepted unless the mock runs with --strict-devices.')),
    );
  }

  fill(root, panelHead('Devices', 'Tokens the mock knows: which topic and environment they belong to, and which are gone (410 Unregistered).'), h('div', { class: 'panel-body two-col' }, form, h('section', { class: 'card' }, h('h3', null, 'Registered'), list)));
  return { refresh };
}

// --- Fault rules -----------------------------------------------------------------------------

/** One template per action, as `POST /api/v1/faults` takes it. */
const TEMPLATES = {
  reject: { name: 'stale token', action: { reject: 'Unregistered' } },
  delay_ms: { name: 'slow answers', action: { delay_ms: 2000 } },
  reset: { name: 'refused stream', schedule: { nth: 1 }, action: { reset: 'REFUSED_STREAM' } },
  goaway: { name: 'server shutdown', schedule: { first: 1 }, action: { goaway: { reason: 'Shutdown', error_code: 'NO_ERROR', include_current: false } } },
  close: { name: 'dropped connection', schedule: { first: 1 }, action: { close: true } },
  stall: { name: 'never answers', action: { stall: true } },
  rate_limit: { name: 'rate limit', action: { rate_limit: { max: 3, window_ms: 1000 } } },
  outage: { name: 'outage', expire_after: 5, action: { outage: 'ServiceUnavailable' } },
  max_connections: { name: 'connection cap', action: { max_connections: 2 } },
};

/** A rule's match as `key = value` lines, tokens shortened. */
function matchText(match) {
  const entries = Object.entries(match ?? {});
  if (!entries.length) return h('span', { class: 'muted' }, 'every push');
  return entries.map(([k, v]) => h('div', null, h('span', { class: 'muted' }, `${k} = `), h('code', { title: typeof v === 'string' ? v : '' }, k === 'device_token' ? fmt.shortToken(v) : typeof v === 'string' ? v : JSON.stringify(v))));
}

export function faultsPanel(ctx) {
  const root = document.getElementById('view-faults');
  const template = h('select', { class: 'input', id: 'fault-template' }, Object.keys(TEMPLATES).map((k) => h('option', { value: k }, k)));
  const scope = h('select', { class: 'input', id: 'fault-scope' }, h('option', { value: 'all' }, 'every push'), h('option', { value: 'device' }, 'the selected push\u2019s device'), h('option', { value: 'topic' }, 'the selected push\u2019s topic'));
  const text = h('textarea', { class: 'input mono', id: 'fault-json', rows: 10, spellcheck: 'false' });
  const list = h('div', { class: 'table-wrap' });

  function useTemplate() {
    const rule = structuredClone(TEMPLATES[template.value]);
    const selected = ctx.selectedPush();
    if (scope.value === 'device' && selected?.device_token) rule.match = { device_token: selected.device_token };
    if (scope.value === 'topic' && selected?.headers?.['apns-topic']) rule.match = { topic: selected.headers['apns-topic'] };
    text.value = JSON.stringify(rule, null, 2);
  }
  template.addEventListener('change', useTemplate);
  scope.addEventListener('change', useTemplate);

  const form = h(
    'form',
    {
      class: 'card form-grid',
      id: 'fault-form',
      onsubmit: async (e) => {
        e.preventDefault();
        let rule;
        try {
          rule = JSON.parse(text.value);
        } catch (err) {
          toast(`Not JSON: ${err.message}`, 'error');
          return;
        }
        await act('Fault rule added', () => api('/api/v1/faults', { method: 'POST', body: rule }), refresh);
      },
    },
    h('h3', null, 'Add a rule'),
    h('div', { class: 'form-row' }, field('Action', template), field('Applies to', scope)),
    field('Rule (match + schedule + action)', text, 'Edit freely: the mock checks it and says what is wrong.'),
    h('div', { class: 'form-actions' }, h('button', { class: 'btn primary', type: 'submit', id: 'fault-add' }, icon('bolt'), 'Add rule')),
  );

  async function refresh() {
    const { faults } = await api('/api/v1/faults');
    fill(
      list,
      faults.length
        ? h(
            'table',
            { class: 'grid', id: 'faults-table' },
            h('thead', null, h('tr', null, ['#', 'Name', 'Match', 'Schedule', 'Action', 'Hits', ''].map((t) => h('th', null, t)))),
            h(
              'tbody',
              null,
              faults.map((f) =>
                h(
                  'tr',
                  { dataset: { id: f.id }, class: f.active ? '' : 'inactive' },
                  h('td', null, String(f.id)),
                  h('td', null, f.name ?? h('span', { class: 'muted' }, '—')),
                  h('td', null, matchText(f.match)),
                  h('td', null, h('code', null, typeof f.schedule === 'string' ? f.schedule : JSON.stringify(f.schedule))),
                  h('td', null, h('code', null, JSON.stringify(f.action))),
                  h('td', { class: 'num', title: `${f.matched} matched` }, h('b', null, String(f.hits)), h('span', { class: 'muted' }, ` / ${f.matched}`)),
                  h('td', { class: 'row-actions' }, h('button', { class: 'btn small danger', type: 'button', title: 'Delete', onclick: () => act(`Rule #${f.id} deleted`, () => api(`/api/v1/faults/${f.id}`, { method: 'DELETE' }), refresh) }, icon('trash'), 'Delete')),
                ),
              ),
            ),
          )
        : h('div', { class: 'empty-state' }, icon('bolt', 'big'), h('p', null, 'No fault rules: every push gets Apple\u2019s answer.'), h('p', { class: 'muted' }, 'Pick an action on the left to break things on purpose.')),
    );
  }

  const clearAll = h('button', { class: 'btn danger', type: 'button', onclick: () => act('Every rule removed', () => api('/api/v1/faults', { method: 'DELETE' }), refresh) }, icon('trash'), 'Delete all');
  fill(root, panelHead('Fault rules', 'Match + schedule + action: make the mock fail the way APNs does, on purpose. Hits count the pushes each rule changed.', clearAll), h('div', { class: 'panel-body two-col' }, form, h('section', { class: 'card' }, h('h3', null, 'Mounted'), list)));
  useTemplate();
  return { refresh, useTemplate };
}

// --- Connections -----------------------------------------------------------------------------

export function connectionsPanel(ctx) {
  const root = document.getElementById('view-connections');
  const list = h('div', { class: 'table-wrap' });
  const reasons = ['Shutdown', 'IdleTimeout', 'InternalServerError', 'ServiceUnavailable'];

  async function refresh() {
    const { connections } = await api('/api/v1/connections');
    connections.sort((a, b) => b.id - a.id);
    fill(
      list,
      connections.length
        ? h(
            'table',
            { class: 'grid', id: 'connections-table' },
            h('thead', null, h('tr', null, ['#', 'Peer', 'ALPN', 'Auth', 'Pushes', 'Stream limit', 'Opened', 'State', ''].map((t) => h('th', null, t)))),
            h(
              'tbody',
              null,
              connections.map((c) => {
                const reason = h('select', { class: 'input small' }, reasons.map((r) => h('option', { value: r }, r)));
                return h(
                  'tr',
                  { dataset: { id: c.id }, class: c.closed_at ? 'inactive' : '' },
                  h('td', null, String(c.id)),
                  h('td', null, h('code', null, c.peer)),
                  h('td', null, c.alpn ?? h('span', { class: 'muted' }, 'none')),
                  h('td', null, fmt.authLine(c.auth)),
                  h('td', { class: 'num' }, h('span', { class: 'ok-text' }, String(c.pushes_accepted)), ' / ', h('span', { class: 'warn-text' }, String(c.pushes_rejected))),
                  h('td', { class: 'num' }, String(c.stream_limit)),
                  h('td', null, fmt.dateTime(c.opened_at)),
                  // A GOAWAY sent says so at once, though the client may keep the connection open a while.
                  h('td', { class: 'conn-state' }, c.closed_how ? h('span', { class: 'muted' }, c.closed_how) : c.closed_at ? h('span', { class: 'muted' }, 'closed') : h('span', { class: 'status status-ok' }, h('span', { class: 'status-code' }, 'open'))),
                  h(
                    'td',
                    { class: 'row-actions' },
                    c.closed_at || c.closed_how
                      ? null
                      : [
                          reason,
                          h('button', { class: 'btn small danger', type: 'button', onclick: () => act(`GOAWAY sent on #${c.id}`, () => api(`/api/v1/connections/${c.id}/goaway`, { method: 'POST', body: { reason: reason.value, error_code: 'NO_ERROR' } }), refresh) }, 'Send GOAWAY'),
                        ],
                  ),
                );
              }),
            ),
          )
        : h('div', { class: 'empty-state' }, icon('plug', 'big'), h('p', null, 'No connections yet.'), h('p', { class: 'muted' }, 'Connect a provider to the APNs endpoint.')),
    );
  }

  fill(root, panelHead('Connections', 'Every HTTP/2 connection: who, how it authenticated, its stream limit, and how it ended.', h('button', { class: 'btn', type: 'button', onclick: refresh }, 'Refresh')), h('div', { class: 'panel-body' }, h('section', { class: 'card' }, list)));
  return { refresh };
}

// --- Clock -----------------------------------------------------------------------------------

export function clockPanel() {
  const root = document.getElementById('view-clock');
  const now = h('div', { class: 'clock-now', id: 'clock-now' });
  const offset = h('div', { class: 'muted', id: 'clock-offset' });
  const custom = h('input', { class: 'input mono', id: 'clock-seconds', placeholder: 'seconds', inputmode: 'numeric' });

  function show(c) {
    fill(now, fmt.dateTime(c.now_ms));
    fill(offset, c.offset_ms ? `${fmt.duration(c.offset_ms)} ahead of real time (${c.offset_ms} ms)` : 'Real time: not advanced');
  }
  async function refresh() {
    show(await api('/api/v1/clock'));
  }
  const advance = (ms, label) => act(`Clock advanced ${label}`, () => api('/api/v1/clock', { method: 'POST', body: { advance_ms: ms } }), show);
  const steps = [
    [60_000, '1 min'],
    [20 * 60_000, '20 min'],
    [3_600_000, '1 h'],
    [86_400_000, '1 day'],
  ];
  fill(
    root,
    panelHead('Clock', 'The mock\u2019s own clock: provider-token age, the 20-minute refresh rule, idle timeouts and 410 timestamps all read it.'),
    h(
      'div',
      { class: 'panel-body' },
      h(
        'section',
        { class: 'card clock-card' },
        icon('clock', 'big'),
        now,
        offset,
        h('div', { class: 'clock-steps' }, steps.map(([ms, label]) => h('button', { class: 'btn', type: 'button', dataset: { ms }, onclick: () => advance(ms, label) }, `+ ${label}`))),
        h(
          'form',
          {
            class: 'form-row',
            onsubmit: (e) => {
              e.preventDefault();
              const s = Number(custom.value);
              if (Number.isFinite(s) && s > 0) advance(Math.round(s * 1000), `${s} s`);
            },
          },
          custom,
          h('button', { class: 'btn primary', type: 'submit', id: 'clock-advance' }, 'Advance'),
        ),
        h('p', { class: 'muted' }, 'Tokens older than an hour get 403 ExpiredProviderToken: advance by 1 h to test your provider\u2019s refresh.'),
      ),
    ),
  );
  return { refresh };
}
