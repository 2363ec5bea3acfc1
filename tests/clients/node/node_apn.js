// One push with @parse/node-apn (token auth, or certificate auth when APNS_CERT_FILE is set),
// pointed at mock-apns with its documented options: `address` and `port` (or `proxy`, taken
// here from HTTPS_PROXY), and `ca`.
// Prints {"result": <Provider.send's {sent, failed}>, "body_bytes": N}.
'use strict';

const fs = require('fs');
const apn = require('@parse/node-apn');
const { required, pushFromEnv, proxyFromEnv, report, run } = require('./push');

run(async () => {
  const push = pushFromEnv();
  const options = { production: false, requestTimeout: 10000 };
  if (process.env.APNS_CERT_FILE) {
    // Certificate auth: a provider certificate from `mock-apns cert issue` and its key.
    options.cert = fs.readFileSync(process.env.APNS_CERT_FILE);
    options.key = fs.readFileSync(required('APNS_CERT_KEY_FILE'));
  } else {
    options.token = {
      key: fs.readFileSync(required('APNS_KEY_FILE')),
      keyId: required('APNS_KEY_ID'),
      teamId: required('APNS_TEAM_ID'),
    };
  }
  // Unset, node-apn keeps Apple's sandbox host on port 443.
  if (process.env.APNS_HOST) options.address = process.env.APNS_HOST;
  if (process.env.APNS_PORT) options.port = Number(process.env.APNS_PORT);
  // Unset, Node's own roots are used, NODE_EXTRA_CA_CERTS included.
  if (process.env.APNS_CA) options.ca = fs.readFileSync(process.env.APNS_CA);
  const proxy = proxyFromEnv();
  if (proxy) options.proxy = proxy;

  const provider = new apn.Provider(options);
  const note = new apn.Notification();
  note.topic = push.topic;
  note.pushType = push.push_type;
  note.priority = push.priority;
  note.expiry = push.expiration;
  note.rawPayload = push.payload;
  const result = await provider.send(note, push.token);
  await provider.shutdown();
  report({ result, body_bytes: push.body_bytes });
});
