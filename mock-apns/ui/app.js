// mock-apns's web UI: a live push inbox and control panels over the admin API.
// Hand-written ES modules, served by the mock itself; no build step, nothing from the network.

import { h, fill, icon, toast } from './js/dom.js';
import { api } from './js/api.js';
import { createInbox } from './js/inbox.js';
import { createDetail } from './js/detail.js';
import { devicesPanel, faultsPanel, connectionsPanel, clockPanel } from './js/panels.js';

const VIEWS = ['inbox', 'devices', 'faults', 'connections', 'clock'];

async function boot() {
  applyTheme(localStorage.getItem('mock-apns.theme') ?? 'auto');
  let health, reasons, pushTypes, devices;
  try {
    [health, { reasons }, { push_types: pushTypes }, { devices }] = await Promise.all([
      api('/api/v1/health'),
      api('/api/v1/reasons'),
      api('/api/v1/push_types'),
      api('/api/v1/devices'),
    ]);
  } catch (e) {
    fill(document.getElementById('main'), h('div', { class: 'fatal' }, h('h1', null, 'The admin API did not answer'), h('p', null, e.message)));
    return;
  }

  // The table writes header names in backticks (Rust doc style): plain text here.
  const explanations = new Map(reasons.map((r) => [r.reason, r.explanation.replaceAll('`', '')]));
  const ctx = {
    health,
    reasons,
    pushTypes,
    devices: new Map(Object.entries(devices)),
    explain: (reason) => explanations.get(reason) ?? '',
    callerPointer: () => localStorage.getItem('mock-apns.caller-pointer') ?? '',
    setCallerPointer: (p) => (p ? localStorage.setItem('mock-apns.caller-pointer', p) : localStorage.removeItem('mock-apns.caller-pointer')),
    async loadDevices() {
      const { devices } = await api('/api/v1/devices');
      ctx.devices = new Map(Object.entries(devices));
      inbox?.devicesChanged();
    },
    setLive(state) {
      const el = document.getElementById('live');
      el.dataset.state = state;
      el.lastChild.textContent = { live: 'Live', reconnecting: 'Reconnecting…', down: 'Offline', connecting: 'Connecting…' }[state];
    },
    setCount(n) {
      document.getElementById('nav-count').textContent = n ? n.toLocaleString('en-US') : '';
    },
    showDetail: (record) => detail.show(record),
    selectedPush: () => inbox.selected(),
    pushArrived: () => {
      // Panels that count pushes follow along while open.
      if (currentView === 'connections') throttledConnections();
    },
  };

  document.getElementById('env').textContent = health.environment;
  document.getElementById('env').dataset.env = health.environment;
  const detail = createDetail(ctx);
  let inbox = null;
  inbox = createInbox(ctx);
  const panels = { devices: devicesPanel(ctx), faults: faultsPanel(ctx), connections: connectionsPanel(ctx), clock: clockPanel(ctx) };
  let timer = null;
  const throttledConnections = () => {
    if (!timer) timer = setTimeout(() => ((timer = null), panels.connections.refresh()), 500);
  };

  let currentView = 'inbox';
  function route() {
    const hash = location.hash.replace(/^#\/?/, '');
    const [view, arg] = hash.split('/');
    currentView = VIEWS.includes(view) ? view : 'inbox';
    for (const v of VIEWS) document.getElementById(`view-${v}`).hidden = v !== currentView;
    for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.view === currentView);
    if (currentView !== 'inbox') panels[currentView].refresh().catch((e) => toast(e.message, 'error'));
    if (view === 'push' && /^\d+$/.test(arg ?? '')) inbox.select(Number(arg), { scroll: true });
    if (currentView === 'faults') panels.faults.useTemplate();
  }
  window.addEventListener('hashchange', route);
  detail.show(null);
  await inbox.reload();
  route();

  document.getElementById('theme').addEventListener('click', () => {
    const order = ['auto', 'light', 'dark'];
    const next = order[(order.indexOf(document.documentElement.dataset.themeChoice) + 1) % order.length];
    localStorage.setItem('mock-apns.theme', next);
    applyTheme(next);
  });
}

/** `auto` follows the system; `light` and `dark` override it. */
function applyTheme(choice) {
  const root = document.documentElement;
  root.dataset.themeChoice = choice;
  if (choice === 'auto') delete root.dataset.theme;
  else root.dataset.theme = choice;
  const button = document.getElementById('theme');
  fill(button, icon({ auto: 'auto', light: 'sun', dark: 'moon' }[choice]));
  button.title = `Theme: ${choice} (click to change)`;
}

boot();
