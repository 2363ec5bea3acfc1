// One push with apns2 (token auth). apns2 takes a `host` but always connects to port 443,
// so the mock must listen on 443 (the port-443 mode); the CA comes from NODE_EXTRA_CA_CERTS.
// Prints {"result": {ok, statusCode, reason, timestamp}, "body_bytes": N}.
'use strict';

const fs = require('fs');
const { required, pushFromEnv, report, run } = require('./push');

run(async () => {
  const { ApnsClient, Notification, ApnsError } = await import('apns2');
  const push = pushFromEnv();
  const client = new ApnsClient({
    team: required('APNS_TEAM_ID'),
    keyId: required('APNS_KEY_ID'),
    signingKey: fs.readFileSync(required('APNS_KEY_FILE')),
    host: required('APNS_HOST'),
    keepAlive: false,
  });
  const { aps, ...data } = push.payload;
  const note = new Notification(push.token, {
    type: push.push_type,
    topic: push.topic,
    priority: push.priority,
    expiration: push.expiration,
    aps,
    data,
  });
  let result;
  try {
    const sent = await client.send(note);
    result = { ok: true, deviceToken: sent.deviceToken };
  } catch (error) {
    if (!(error instanceof ApnsError)) throw error;
    result = {
      ok: false,
      statusCode: error.statusCode,
      reason: error.reason,
      timestamp: error.timestamp,
    };
  }
  await client.close();
  report({ result, body_bytes: push.body_bytes });
});
