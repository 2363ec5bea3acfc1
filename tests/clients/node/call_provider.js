// A call provider (the app backend of a calling app) in Node.js with @parse/node-apn: the
// same HTTP API and the same pushes as the Rust reference provider (examples/call-provider),
// so `apns-harness` can replay the call scenarios against it and compare its traffic with the
// reference's snapshots (harness/tests/client_providers.rs, docs/testing-your-provider.md).
//
//   apns-harness run fixtures/scenarios/incoming_call_rings_every_device.json \
//     --provider-cmd "node tests/clients/node/call_provider.js"
//
// Configuration, as the harness passes it: APNS_HOST, APNS_PORT (where APNs is), APNS_CA_FILE
// (the CA to trust), APNS_KEY_FILE, APNS_KEY_ID, APNS_TEAM_ID (the .p8 provider key),
// APNS_TOPIC (the bundle id), PORT (0: any free port). Ready line on stdout:
// `listening on http://127.0.0.1:<port>`; logs on stderr.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const apn = require('@parse/node-apn');

/** How long the callee's phone rings, in seconds (in the VoIP payload). */
const RING_TIMEOUT_SECS = 30;
/** Largest request body accepted. */
const MAX_BODY = 64 * 1024;

function required(name) {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`call_provider.js: ${name} is not set\n`);
    process.exit(2);
  }
  return value;
}

const bundle = required('APNS_TOPIC');

// One Provider: node-apn keeps one HTTP/2 session (TLS, ALPN h2), opened on the first push,
// and one provider token, re-minted after 55 minutes (and at once on ExpiredProviderToken).
const apns = new apn.Provider({
  token: {
    key: fs.readFileSync(required('APNS_KEY_FILE')),
    keyId: required('APNS_KEY_ID'),
    teamId: required('APNS_TEAM_ID'),
  },
  production: false, // only picks Apple's default host; `address` overrides it
  address: required('APNS_HOST'),
  port: Number(required('APNS_PORT')),
  // Unset: Node's roots plus NODE_EXTRA_CA_CERTS (which the harness also sets).
  ...(process.env.APNS_CA_FILE ? { ca: fs.readFileSync(process.env.APNS_CA_FILE) } : {}),
  requestTimeout: Number(process.env.APNS_TIMEOUT_MS || 10000),
});

// --- The notifications: same headers and payloads as examples/call-provider/src/pushes.rs.

/** A notification with its own apns-id (node-apn sends none unless told). */
function notification({ pushType, topic, priority, expiry, payload }) {
  const note = new apn.Notification();
  note.id = crypto.randomUUID();
  note.pushType = pushType;
  note.topic = topic;
  note.priority = priority;
  if (expiry !== undefined) note.expiry = expiry; // -1 (node-apn's default): no header
  note.rawPayload = payload; // exactly this JSON (`payload` would drop the empty `aps`)
  return note;
}

/** The incoming call: VoIP, `<bundle>.voip`, priority 10, expiration 0 (ring now or never). */
function incomingCall(callId, caller) {
  return notification({
    pushType: 'voip',
    topic: `${bundle}.voip`,
    priority: 10,
    expiry: 0,
    payload: { aps: {}, call_id: callId, caller, ring_timeout: RING_TIMEOUT_SECS },
  });
}

/** The caller hung up first: a visible alert on the regular token, no expiration. */
function missedCall(callId, caller) {
  return notification({
    pushType: 'alert',
    topic: bundle,
    priority: 10,
    payload: {
      aps: { alert: { title: 'Missed call', body: `Missed call from ${caller}` } },
      call_id: callId,
    },
  });
}

/** Answered on one device: a background push (priority 5) telling the others to stop. */
function answeredElsewhere(callId) {
  return notification({
    pushType: 'background',
    topic: bundle,
    priority: 5,
    payload: { aps: { 'content-available': 1 }, call_id: callId, event: 'answered-elsewhere' },
  });
}

// --- State: user → device name → {apns_token, voip_token}; call id → call.

const users = new Map();
const calls = new Map();

/** The user's devices with a token of `kind` ('apns_token' | 'voip_token'), but `except`. */
function targets(user, kind, except) {
  const devices = users.get(user) || new Map();
  return [...devices]
    .filter(([name, d]) => name !== except && d[kind])
    .map(([device, d]) => ({ device, token: d[kind] }));
}

/** Forgets a dead token wherever it is registered; true if it was. */
function prune(kind, token) {
  let pruned = false;
  for (const devices of users.values()) {
    for (const d of devices.values()) {
      if (d[kind] === token) {
        d[kind] = null;
        pruned = true;
      }
    }
  }
  return pruned;
}

/** Tries per push when APNs refuses the stream (see `send`). */
const REFUSED_STREAM_ATTEMPTS = 3;

/**
 * Sends one notification to one token; node-apn's `{sent, failed}` entry for it.
 *
 * APNs allows one stream on a new connection until it has accepted a push with a valid
 * provider token (mock-apns does the same). node-apn starts every push of a burst at once,
 * so all but the first on a fresh connection come back as `error` `… NGHTTP2_REFUSED_STREAM`
 * with no status, and node-apn does not retry those. A refused stream was never processed,
 * so it is re-sent (same notification, same apns-id), as the reference provider does.
 */
async function send(note, token) {
  for (let attempt = 1; ; attempt++) {
    const { sent, failed } = await apns.send(note, token);
    if (sent.length === 1) return { status: 200 };
    const f = failed[0] || {};
    const refused = !f.status && f.error && /REFUSED_STREAM/.test(f.error.message);
    if (!refused || attempt === REFUSED_STREAM_ATTEMPTS) return f;
    process.stderr.write(`${token}: stream refused, sending again\n`);
  }
}

/**
 * One push per target, concurrently; a token answered 410 is pruned. Deliveries come back
 * sorted by device name, whatever order APNs answered in.
 */
async function deliver(kind, list, make) {
  const deliveries = await Promise.all(
    list.map(async ({ device, token }) => {
      const f = await send(make(), token);
      if (f.status === 200) return { device, status: 200 };
      if (!f.status) {
        return { device, error: String((f.error && f.error.message) || 'no answer from APNs') };
      }
      const delivery = { device, status: Number(f.status), reason: f.response && f.response.reason };
      if (delivery.status === 410 && prune(kind, token)) delivery.pruned = true;
      return delivery;
    })
  );
  return deliveries.sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : 0));
}

// --- The HTTP API (examples/call-provider/README.md).

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Checks a JSON body's fields: `fields` maps each allowed name to whether it is required. */
function fields(body, allowed) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 'invalid JSON body: expected an object');
  }
  for (const key of Object.keys(body)) {
    if (!(key in allowed)) throw new ApiError(400, `invalid JSON body: unknown field \`${key}\``);
  }
  for (const [key, isRequired] of Object.entries(allowed)) {
    const value = body[key];
    if (value === undefined || value === null) {
      if (isRequired) throw new ApiError(400, `invalid JSON body: missing field \`${key}\``);
    } else if (typeof value !== 'string') {
      throw new ApiError(400, `invalid JSON body: \`${key}\` must be a string`);
    }
  }
  return body;
}

function register(body) {
  const { user, device, apns_token = null, voip_token = null } = fields(body, {
    user: true,
    device: true,
    apns_token: false,
    voip_token: false,
  });
  if (!user || !device) throw new ApiError(400, 'user and device must not be empty');
  if (!apns_token && !voip_token) {
    throw new ApiError(400, 'a device needs an apns_token, a voip_token, or both');
  }
  for (const token of [apns_token, voip_token]) {
    if (token !== null && !/^[0-9a-fA-F]+$/.test(token)) {
      throw new ApiError(400, `token ${JSON.stringify(token)} is not hexadecimal`);
    }
  }
  if (!users.has(user)) users.set(user, new Map());
  users.get(user).set(device, { apns_token, voip_token });
  return [201, { user, device, apns_token, voip_token }];
}

async function call(body) {
  const { from, to } = fields(body, { from: true, to: true });
  if (!users.has(to)) throw new ApiError(404, `user ${JSON.stringify(to)} has no registered device`);
  const callId = crypto.randomUUID();
  calls.set(callId, { from, to, state: 'Ringing' });
  const deliveries = await deliver('voip_token', targets(to, 'voip_token'), () =>
    incomingCall(callId, from)
  );
  return [201, { call_id: callId, deliveries }];
}

/** Moves a ringing call to `state`; a call rings once and ends once. */
function endCall(callId, state) {
  const c = calls.get(callId);
  if (!c) throw new ApiError(404, 'no such call');
  if (c.state !== 'Ringing') throw new ApiError(409, `the call is no longer ringing (${c.state})`);
  c.state = state;
  return c;
}

async function cancel(callId) {
  const c = endCall(callId, 'Cancelled');
  const deliveries = await deliver('apns_token', targets(c.to, 'apns_token'), () =>
    missedCall(callId, c.from)
  );
  return [200, { call_id: callId, deliveries }];
}

async function answer(callId, body) {
  const { device } = fields(body, { device: true });
  const c = calls.get(callId);
  if (!c) throw new ApiError(404, 'no such call');
  if (!(users.get(c.to) || new Map()).has(device)) {
    throw new ApiError(400, `device ${JSON.stringify(device)} is not one of the callee's devices`);
  }
  endCall(callId, 'Answered');
  const deliveries = await deliver('apns_token', targets(c.to, 'apns_token', device), () =>
    answeredElsewhere(callId)
  );
  return [200, { call_id: callId, deliveries }];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function route(method, path, readJson) {
  const segments = path.replace(/^\/+|\/+$/g, '').split('/');
  const [first, id, action] = segments;
  const known =
    (segments.length === 1 && ['health', 'devices', 'calls'].includes(first)) ||
    (segments.length === 3 && first === 'calls' && ['cancel', 'answer'].includes(action));
  if (!known) throw new ApiError(404, `no route ${method} ${path}`);
  if (first === 'health' && method === 'GET') return [200, { status: 'ok' }];
  if (method !== 'POST' || first === 'health') {
    throw new ApiError(405, `${method} is not allowed on ${path}`);
  }
  if (first === 'devices') return register(await readJson());
  if (segments.length === 1) return call(await readJson());
  if (!UUID.test(id)) throw new ApiError(404, 'no such call');
  const callId = id.toLowerCase();
  return action === 'cancel' ? cancel(callId) : answer(callId, await readJson());
}

/** The request body as JSON (at most MAX_BODY bytes). */
function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', chunk => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new ApiError(400, 'reading the body: too large'));
        req.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    req.on('error', e => reject(new ApiError(400, `reading the body: ${e.message}`)));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (e) {
        reject(new ApiError(400, `invalid JSON body: ${e.message}`));
      }
    });
  });
}

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, 'http://localhost').pathname;
  let status;
  let body;
  try {
    [status, body] = await route(req.method, path, () => readJson(req));
  } catch (e) {
    status = e instanceof ApiError ? e.status : 500;
    body = { error: e instanceof ApiError ? e.message : String(e) };
    if (!(e instanceof ApiError)) process.stderr.write(`${e && e.stack ? e.stack : e}\n`);
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
  process.stderr.write(`${req.method} ${path} → ${status}\n`);
});

server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
