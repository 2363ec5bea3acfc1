// Shared by the Node client scripts: reads what to send from the environment, pads a payload
// to an exact size, and prints one JSON line for the Rust test (tests/clients.rs) to parse.
'use strict';

/** Reads a required environment variable; the Rust test always sets these. */
function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/**
 * The push to send, from $PUSH (JSON): token, topic, push_type, priority, expiration, payload,
 * and optionally pad_to, the byte size the serialized payload must have.
 */
function pushFromEnv() {
  const push = JSON.parse(required('PUSH'));
  if (push.pad_to) {
    // Both Node clients serialize with JSON.stringify, so measure with it too.
    push.payload.pad = '';
    const missing = push.pad_to - Buffer.byteLength(JSON.stringify(push.payload));
    push.payload.pad = 'x'.repeat(missing);
  }
  push.body_bytes = Buffer.byteLength(JSON.stringify(push.payload));
  return push;
}

/** `http://host:port` from HTTPS_PROXY, as the { host, port } clients take. */
function proxyFromEnv() {
  const value = process.env.HTTPS_PROXY || process.env.https_proxy;
  if (!value) return null;
  const url = new URL(value);
  return { host: url.hostname, port: Number(url.port || 80) };
}

/** Prints the outcome and ends the process: exit 0 whatever APNs answered. */
function report(outcome) {
  process.stdout.write(JSON.stringify(outcome) + '\n');
}

/** Runs `main`; an exception (not an APNs rejection) is a failure of the script itself. */
function run(main) {
  main().then(
    () => process.exit(0),
    error => {
      process.stderr.write(`${error && error.stack ? error.stack : JSON.stringify(error)}\n`);
      process.exit(1);
    }
  );
}

module.exports = { required, pushFromEnv, proxyFromEnv, report, run };
