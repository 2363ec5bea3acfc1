// The push list: filters, a windowed list (only the visible rows are in the DOM, so 100 000
// records cost no more than 100), pages loaded as you scroll, live pushes from the event
// stream, grouping, unread marks.

import { h, fill, icon, toast } from './dom.js';
import { api, query } from './api.js';
import * as fmt from './format.js';

/** Row height in px, as style.css sets it (`--row-h`): read once, the CSS is already applied. */
const ROW_H = parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--row-h'));
/** Records per page, newest first. */
const PAGE = 200;
/** Rows rendered beyond the visible ones, above and below. */
const OVERSCAN = 10;

export function createInbox(ctx) {
  const $ = (sel) => document.querySelector(sel);
  const els = {
    scroller: $('#rows'),
    spacer: $('#rows-spacer'),
    window: $('#rows-window'),
    empty: $('#empty'),
    total: $('#list-total'),
    unread: $('#list-unread'),
    form: $('#filters'),
    q: $('#f-q'),
    device: $('#f-device'),
    devices: $('#f-devices'),
    topic: $('#f-topic'),
    type: $('#f-type'),
    status: $('#f-status'),
    reason: $('#f-reason'),
    group: $('#f-group'),
    reset: $('#f-reset'),
    markRead: $('#mark-read'),
    clear: $('#clear'),
  };
  const st = {
    rows: [], // records, newest first
    ids: new Set(),
    items: [], // what the list shows: rows, with group headers when grouped
    total: 0,
    more: false,
    latestId: 0,
    loading: null,
    generation: 0, // bumps on every reload, so a late page of an older query is dropped
    unread: new Set(),
    fresh: new Map(), // id → when it arrived live (a short highlight)
    selected: null,
    es: null,
    opened: false,
  };

  // --- Filters ---------------------------------------------------------------------------

  function fillFilterChoices() {
    fill(els.type, h('option', { value: '' }, 'Any type'), ctx.pushTypes.map((t) => h('option', { value: t.push_type }, t.push_type)));
    const statuses = [
      ['', 'Any status'],
      ['accepted', 'Accepted (200)'],
      ['rejected', 'Rejected (any)'],
      ...[...new Set(ctx.reasons.map((r) => r.status))].map((s) => [String(s), `${s}`]),
      ['0', 'No answer (fault)'],
    ];
    fill(els.status, statuses.map(([v, label]) => h('option', { value: v }, label)));
    const byStatus = Map.groupBy(ctx.reasons, (r) => r.status);
    fill(
      els.reason,
      h('option', { value: '' }, 'Any reason'),
      [...byStatus].map(([status, reasons]) => h('optgroup', { label: String(status) }, reasons.map((r) => h('option', { value: r.reason }, r.reason)))),
    );
    refreshDeviceChoices();
  }

  function refreshDeviceChoices() {
    fill(els.devices, [...ctx.devices].map(([token, d]) => h('option', { value: token }, d.name ?? token)));
  }

  /** The filters as query parameters of `/api/v1/inbox` and `/api/v1/events`. */
  function filterParams() {
    const status = els.status.value;
    let device = els.device.value.trim();
    // A registered device's name stands for its token.
    for (const [token, d] of ctx.devices) if (d.name && d.name.toLowerCase() === device.toLowerCase()) device = token;
    return {
      q: els.q.value,
      device_token: device,
      topic: els.topic.value.trim(),
      push_type: els.type.value,
      reason: els.reason.value,
      status: /^\d+$/.test(status) ? status : '',
      outcome: ['accepted', 'rejected'].includes(status) ? status : '',
    };
  }

  let debounce = null;
  function filtersChanged(delay) {
    clearTimeout(debounce);
    debounce = setTimeout(() => reload(), delay);
    const active = Object.values(filterParams()).some(Boolean);
    els.reset.hidden = !active;
  }
  for (const el of [els.q, els.device, els.topic]) {
    el.addEventListener('input', () => filtersChanged(250));
    el.addEventListener('change', () => filtersChanged(0));
  }
  for (const el of [els.type, els.status, els.reason]) el.addEventListener('change', () => filtersChanged(0));
  els.group.addEventListener('change', () => {
    localStorage.setItem('mock-apns.group', els.group.value);
    rebuild();
  });
  els.group.value = localStorage.getItem('mock-apns.group') ?? 'none';
  els.form.addEventListener('submit', (e) => e.preventDefault());
  els.reset.addEventListener('click', () => {
    els.form.reset();
    els.group.value = localStorage.getItem('mock-apns.group') ?? 'none';
    filtersChanged(0);
  });

  // --- Loading -----------------------------------------------------------------------------

  /** Loads the newest page for the current filters, then follows the event stream from it. */
  async function reload() {
    const generation = ++st.generation;
    st.es?.close();
    st.es = null;
    let page;
    try {
      page = await api(`/api/v1/inbox?${query({ ...filterParams(), limit: PAGE })}`);
    } catch (e) {
      ctx.setLive('down');
      toast(`Loading pushes failed: ${e.message}`, 'error');
      return;
    }
    if (generation !== st.generation) return;
    st.rows = page.pushes;
    st.ids = new Set(st.rows.map((r) => r.id));
    st.total = page.total;
    st.more = page.more;
    st.latestId = page.latest_id;
    st.loading = null;
    rebuild();
    els.scroller.scrollTop = 0;
    follow();
    if (!performance.getEntriesByName('inbox-ready').length) {
      performance.mark('inbox-ready');
      document.documentElement.dataset.ready = 'true';
    }
  }

  /** Loads the next older page. */
  function loadMore() {
    if (!st.more || st.loading) return;
    const generation = st.generation;
    const oldest = st.rows.at(-1)?.id;
    st.loading = api(`/api/v1/inbox?${query({ ...filterParams(), limit: PAGE, before: oldest })}`)
      .then((page) => {
        if (generation !== st.generation) return;
        for (const r of page.pushes) {
          if (!st.ids.has(r.id)) {
            st.ids.add(r.id);
            st.rows.push(r);
          }
        }
        st.more = page.more;
        rebuild();
      })
      .catch((e) => toast(`Loading older pushes failed: ${e.message}`, 'error'))
      .finally(() => {
        if (generation === st.generation) st.loading = null;
      });
  }

  /** Follows `/api/v1/events` from the newest id loaded; the browser resumes it by itself. */
  function follow() {
    const es = new EventSource(`/api/v1/events?${query({ ...filterParams(), after: st.latestId })}`);
    let dropped = false;
    es.addEventListener('push', (e) => arrived(JSON.parse(e.data)));
    es.addEventListener('clear', () => cleared());
    es.addEventListener('open', () => {
      // Back after a drop: the mock may have restarted (ids start again), so start afresh.
      if (dropped) reload();
      else ctx.setLive('live');
    });
    es.addEventListener('error', () => {
      dropped = true;
      if (es.readyState === EventSource.CLOSED) {
        ctx.setLive('down');
        setTimeout(() => st.es === es && reload(), 3000);
      } else {
        ctx.setLive('reconnecting');
      }
    });
    st.es = es;
  }

  function arrived(record) {
    if (st.ids.has(record.id)) return;
    st.ids.add(record.id);
    // Newest first; a push that overtook another on the wire still lands in id order.
    let at = 0;
    while (at < st.rows.length && st.rows[at].id > record.id) at++;
    st.rows.splice(at, 0, record);
    st.total += 1;
    st.unread.add(record.id);
    st.fresh.set(record.id, performance.now());
    arrivals += 1;
    // Laid out once per frame: a burst of pushes is one rebuild, not one per push.
    if (arrivals === 1) requestAnimationFrame(layOutArrivals);
    ctx.pushArrived(record);
  }

  /** Pushes that arrived since the last frame, not yet laid out. */
  let arrivals = 0;

  function layOutArrivals() {
    const atTop = els.scroller.scrollTop < ROW_H / 2;
    rebuild();
    // Keep what the reader is looking at in place when rows arrive above it.
    if (!atTop) els.scroller.scrollTop += ROW_H * arrivals;
    arrivals = 0;
  }

  function cleared() {
    st.rows = [];
    st.ids.clear();
    st.total = 0;
    st.more = false;
    st.unread.clear();
    rebuild();
    ctx.showDetail(null);
  }

  // --- The list ----------------------------------------------------------------------------

  function rebuild() {
    const mode = els.group.value;
    if (mode === 'none') {
      st.items = st.rows;
    } else {
      const key = mode === 'device' ? (r) => (r.device_token ?? '').toLowerCase() : (r) => r.connection_id;
      const groups = Map.groupBy(st.rows, key);
      st.items = [...groups].flatMap(([k, rows]) => [{ group: true, key: k, label: groupLabel(mode, k), count: rows.length }, ...rows]);
    }
    els.spacer.style.height = `${st.items.length * ROW_H}px`;
    els.empty.hidden = st.rows.length > 0;
    els.total.textContent = `${fmt.count(st.total)} ${st.total === 1 ? 'push' : 'pushes'}`;
    updateUnread();
    render();
  }

  function groupLabel(mode, key) {
    if (mode === 'connection') return `Connection #${key}`;
    const d = ctx.devices.get(key);
    return d?.name ? `${d.name} · ${fmt.shortToken(key)}` : key || 'no token';
  }

  function updateUnread() {
    const n = st.unread.size;
    els.unread.textContent = n ? `${fmt.count(n)} unread` : '';
    els.markRead.disabled = n === 0;
    document.title = n ? `(${n}) mock-apns` : 'mock-apns';
    ctx.setCount(st.total);
  }

  let frame = 0;
  function render() {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(draw);
  }

  function draw() {
    const { scrollTop, clientHeight } = els.scroller;
    const first = Math.max(0, Math.floor(scrollTop / ROW_H) - OVERSCAN);
    const last = Math.min(st.items.length, Math.ceil((scrollTop + clientHeight) / ROW_H) + OVERSCAN);
    els.window.style.transform = `translateY(${first * ROW_H}px)`;
    const now = performance.now();
    for (const [id, at] of st.fresh) if (now - at > 1600) st.fresh.delete(id);
    fill(els.window, st.items.slice(first, last).map((item) => (item.group ? groupRow(item) : row(item))));
    if (last > st.items.length - OVERSCAN * 3) loadMore();
  }

  function groupRow(g) {
    return h('div', { class: 'group-row', role: 'rowheader' }, h('span', { class: 'group-label' }, g.label), h('span', { class: 'group-count' }, `${g.count}`));
  }

  function row(r) {
    const type = fmt.effectiveType(r, ctx.pushTypes);
    const device = ctx.devices.get((r.device_token ?? '').toLowerCase());
    const classes = ['row'];
    if (st.unread.has(r.id)) classes.push('unread');
    if (st.selected === r.id) classes.push('selected');
    if (st.fresh.has(r.id)) classes.push('fresh');
    const el = h(
      'div',
      { class: classes.join(' '), role: 'row', dataset: { id: r.id }, onclick: () => select(r.id) },
      h('span', { class: 'c c-time', title: fmt.dateTime(r.received_at) }, fmt.clockTime(r.received_at)),
      h('span', { class: 'c c-device', title: r.device_token ?? '' }, device?.name ? h('b', null, device.name) : h('code', null, fmt.shortToken(r.device_token))),
      h('span', { class: 'c c-type' }, typePill(type)),
      h('span', { class: 'c c-topic', title: r.headers?.['apns-topic'] ?? '' }, r.headers?.['apns-topic'] ?? '—'),
      h('span', { class: 'c c-gist' }, fmt.gist(r, type)),
      h('span', { class: 'c c-status' }, statusPill(r)),
      h('span', { class: 'c c-fault' }, r.fault ? h('span', { class: 'fault-tag', title: JSON.stringify(r.fault.action) }, icon('bolt'), `#${r.fault.rule_id}`) : ''),
      h('span', { class: 'c c-size' }, fmt.bytes(r.payload_size)),
    );
    // Rows are redrawn often: the arrival highlight carries on where it was, not from the start.
    if (st.fresh.has(r.id)) el.style.animationDelay = `-${Math.round(performance.now() - st.fresh.get(r.id))}ms`;
    return el;
  }

  els.scroller.addEventListener('scroll', render, { passive: true });
  new ResizeObserver(render).observe(els.scroller);

  // --- Selection ---------------------------------------------------------------------------

  async function select(id, { scroll = false } = {}) {
    st.selected = id;
    st.unread.delete(id);
    updateUnread();
    let record = st.rows.find((r) => r.id === id);
    if (!record) {
      try {
        record = await api(`/api/v1/pushes/${id}`);
      } catch (e) {
        toast(`Push #${id}: ${e.message}`, 'error');
        return;
      }
    }
    if (scroll) {
      const index = st.items.indexOf(record);
      if (index >= 0) {
        const top = index * ROW_H;
        const { scrollTop, clientHeight } = els.scroller;
        if (top < scrollTop) els.scroller.scrollTop = top;
        else if (top + ROW_H > scrollTop + clientHeight) els.scroller.scrollTop = top + ROW_H - clientHeight;
      }
    }
    render();
    if (location.hash !== `#/push/${id}`) history.replaceState(null, '', `#/push/${id}`);
    ctx.showDetail(record);
  }

  els.scroller.addEventListener('keydown', (e) => {
    const rows = st.items.filter((i) => !i.group);
    const at = rows.findIndex((r) => r.id === st.selected);
    const step = { ArrowDown: 1, j: 1, ArrowUp: -1, k: -1 }[e.key];
    if (!step) return;
    e.preventDefault();
    const next = rows[Math.min(rows.length - 1, Math.max(0, at + step))];
    if (next) select(next.id, { scroll: true });
  });

  els.markRead.addEventListener('click', () => {
    st.unread.clear();
    rebuild();
  });

  let confirmTimer = null;
  els.clear.addEventListener('click', async () => {
    if (!els.clear.classList.contains('confirm')) {
      els.clear.classList.add('confirm');
      els.clear.lastChild.textContent = 'Clear all?';
      confirmTimer = setTimeout(() => resetClear(), 3000);
      return;
    }
    resetClear();
    try {
      await api('/api/v1/pushes', { method: 'DELETE' });
      cleared();
      toast('Record cleared');
    } catch (e) {
      toast(`Clearing failed: ${e.message}`, 'error');
    }
  });
  function resetClear() {
    clearTimeout(confirmTimer);
    els.clear.classList.remove('confirm');
    els.clear.lastChild.textContent = 'Clear';
  }

  fillFilterChoices();

  return {
    reload,
    select,
    /** Device names changed: re-draw rows and the device choices. */
    devicesChanged() {
      refreshDeviceChoices();
      rebuild();
    },
    /** The device token of the selected push, for templates. */
    selected: () => st.rows.find((r) => r.id === st.selected) ?? null,
  };
}

/** A push type as a coloured tag. */
export function typePill(type) {
  return h('span', { class: `pill type-${type ?? 'none'}` }, type ?? 'none');
}

/** Status and reason: green for 200, amber for 4xx, red for 5xx, grey for no answer. */
export function statusPill(r) {
  const kind = r.status === 200 ? 'ok' : r.status === 0 ? 'none' : r.status >= 500 ? 'err' : 'warn';
  return h(
    'span',
    { class: `status status-${kind}` },
    h('span', { class: 'status-code' }, r.status === 0 ? '—' : String(r.status)),
    r.reason ? h('span', { class: 'status-reason' }, r.reason) : r.status === 0 ? h('span', { class: 'status-reason' }, 'no answer') : null,
  );
}
