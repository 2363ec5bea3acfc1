"""A call provider (the app backend of a calling app) in Python with aioapns.

The same HTTP API and the same pushes as the Rust reference provider (examples/call-provider),
so `apns-harness` can replay the call scenarios against it and compare its traffic with the
reference's snapshots (harness/tests/client_providers.rs, docs/testing-your-provider.md):

    apns-harness run tests/clients/python/scenarios \\
      --provider-cmd "tests/clients/python/.venv/bin/python tests/clients/python/call_provider.py"

Configuration, as the harness passes it: APNS_HOST, APNS_PORT (where APNs is), APNS_CA_FILE
(the CA to trust), APNS_KEY_FILE, APNS_KEY_ID, APNS_TEAM_ID (the .p8 provider key),
APNS_TOPIC (the bundle id), PORT (0: any free port). Ready line on stdout:
`listening on http://127.0.0.1:<port>`; logs on stderr.

The HTTP side is the standard library's threading HTTP server; every request is handed to one
asyncio loop, which owns the state and the aioapns client, so nothing needs a lock.

One difference on the wire is aioapns's, not this provider's: it cannot send
`apns-expiration: 0`. `time_to_live=0` makes it send the current time instead (which, like 0,
tells APNs not to keep the push for later), so the VoIP pushes carry that and this provider
has its own snapshots (tests/clients/python/scenarios/snapshots).
"""

import asyncio
import json
import os
import re
import ssl
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from aioapns import APNs, NotificationRequest, PushType
from aioapns.connection import APNsDevelopmentClientProtocol

# How long the callee's phone rings, in seconds (in the VoIP payload).
RING_TIMEOUT_SECS = 30
# Largest request body accepted.
MAX_BODY = 64 * 1024
HEX = re.compile(r"^[0-9a-fA-F]+$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"call_provider.py: {name} is not set")
    return value


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def apns_client() -> APNs:
    """One aioapns client (call it inside the loop: its pool binds to the running loop).

    aioapns has no host or port option: its connection class carries them. Each of its
    connections mints its own provider token (renewed after 30 minutes), and its pool opens
    another connection whenever one has no free stream, which on a fresh APNs connection (one
    stream until a push is accepted) is at the second push of a burst. `max_connections=1`
    keeps one connection, as the reference provider does; pushes wait for a free stream.
    """
    APNsDevelopmentClientProtocol.APNS_SERVER = required("APNS_HOST")
    APNsDevelopmentClientProtocol.APNS_PORT = int(required("APNS_PORT"))
    ssl_context = ssl.create_default_context(cafile=os.environ.get("APNS_CA_FILE") or None)
    # aioapns offers no ALPN and speaks HTTP/2 with prior knowledge; offering "h2" here makes
    # the TLS handshake say so, as other clients do (APNs and the mock take either).
    ssl_context.set_alpn_protocols(["h2"])
    return APNs(
        key=open(required("APNS_KEY_FILE")).read(),
        key_id=required("APNS_KEY_ID"),
        team_id=required("APNS_TEAM_ID"),
        topic=required("APNS_TOPIC"),  # each request below names its own topic
        use_sandbox=True,  # the development connection class, whose host and port are set above
        ssl_context=ssl_context,
        max_connections=1,
        max_connection_attempts=3,
    )


# --- The notifications: same headers and payloads as examples/call-provider/src/pushes.rs.


def incoming_call(bundle: str, token: str, call_id: str, caller: str) -> NotificationRequest:
    """VoIP, `<bundle>.voip`, priority 10, expiring at once (see the module docs)."""
    return NotificationRequest(
        device_token=token,
        message={"aps": {}, "call_id": call_id, "caller": caller, "ring_timeout": RING_TIMEOUT_SECS},
        push_type=PushType.VOIP,
        apns_topic=f"{bundle}.voip",
        priority=10,
        time_to_live=0,
    )


def missed_call(bundle: str, token: str, call_id: str, caller: str) -> NotificationRequest:
    """The caller hung up first: a visible alert on the regular token, no expiration."""
    return NotificationRequest(
        device_token=token,
        message={
            "aps": {"alert": {"title": "Missed call", "body": f"Missed call from {caller}"}},
            "call_id": call_id,
        },
        push_type=PushType.ALERT,
        apns_topic=bundle,
        priority=10,
    )


def answered_elsewhere(bundle: str, token: str, call_id: str) -> NotificationRequest:
    """Answered on one device: a background push (priority 5) telling the others to stop."""
    return NotificationRequest(
        device_token=token,
        message={"aps": {"content-available": 1}, "call_id": call_id, "event": "answered-elsewhere"},
        push_type=PushType.BACKGROUND,
        apns_topic=bundle,
        priority=5,
    )


class App:
    """The provider's state and flows; used only from the asyncio loop."""

    def __init__(self) -> None:
        self.bundle = required("APNS_TOPIC")
        self.timeout = int(os.environ.get("APNS_TIMEOUT_MS") or 10000) / 1000
        self.apns = apns_client()
        # Until APNs has answered one push, its SETTINGS may not have arrived (see `send`).
        self.first_push = asyncio.Lock()
        self.settled = False
        # user → device name → {"apns_token", "voip_token"}; call id → call.
        self.users: dict[str, dict[str, dict]] = {}
        self.calls: dict[str, dict] = {}

    def targets(self, user: str, kind: str, except_device: str | None = None) -> list:
        devices = self.users.get(user, {})
        return [(name, d[kind]) for name, d in devices.items() if name != except_device and d[kind]]

    def prune(self, kind: str, token: str) -> bool:
        """Forgets a dead token wherever it is registered; true if it was."""
        pruned = False
        for devices in self.users.values():
            for d in devices.values():
                if d[kind] == token:
                    d[kind] = None
                    pruned = True
        return pruned

    async def send(self, request: NotificationRequest):
        """Sends one push; aioapns's `NotificationResult`.

        APNs allows one stream on a new connection until it has accepted a push (mock-apns
        does the same) and refuses others with RST_STREAM REFUSED_STREAM. aioapns ignores
        stream resets, so a refused push would never be answered; and it starts a second push
        before the server's SETTINGS have told it the limit. So the first push goes alone:
        once it is answered, the limit is known and aioapns waits for free streams itself.
        """
        send = asyncio.wait_for(self.apns.send_notification(request), self.timeout)
        if self.settled:
            return await send
        async with self.first_push:
            result = await send
            self.settled = True
            return result

    async def deliver(self, kind: str, targets: list, make) -> list:
        """One push per target, concurrently; a token answered 410 is pruned. Deliveries
        come back sorted by device name, whatever order APNs answered in."""

        async def one(device: str, token: str) -> dict:
            try:
                result = await self.send(make(token))
            except Exception as error:  # no answer: a connection error, a timeout
                return {"device": device, "error": f"no answer from APNs: {type(error).__name__}"}
            status = int(result.status)
            if status == 200:
                return {"device": device, "status": 200}
            delivery = {"device": device, "status": status, "reason": result.description}
            if status == 410 and self.prune(kind, token):
                delivery["pruned"] = True
            return delivery

        deliveries = await asyncio.gather(*(one(d, t) for d, t in targets))
        return sorted(deliveries, key=lambda d: d["device"])

    async def register(self, body) -> tuple:
        body = fields(body, {"user": True, "device": True, "apns_token": False, "voip_token": False})
        user, device = body["user"], body["device"]
        apns_token, voip_token = body.get("apns_token"), body.get("voip_token")
        if not user or not device:
            raise ApiError(400, "user and device must not be empty")
        if not apns_token and not voip_token:
            raise ApiError(400, "a device needs an apns_token, a voip_token, or both")
        for token in (apns_token, voip_token):
            if token is not None and not HEX.match(token):
                raise ApiError(400, f"token {json.dumps(token)} is not hexadecimal")
        self.users.setdefault(user, {})[device] = {"apns_token": apns_token, "voip_token": voip_token}
        return 201, {"user": user, "device": device, "apns_token": apns_token, "voip_token": voip_token}

    async def call(self, body) -> tuple:
        body = fields(body, {"from": True, "to": True})
        caller, callee = body["from"], body["to"]
        if callee not in self.users:
            raise ApiError(404, f"user {json.dumps(callee)} has no registered device")
        call_id = str(uuid.uuid4())
        self.calls[call_id] = {"from": caller, "to": callee, "state": "Ringing"}
        deliveries = await self.deliver(
            "voip_token",
            self.targets(callee, "voip_token"),
            lambda token: incoming_call(self.bundle, token, call_id, caller),
        )
        return 201, {"call_id": call_id, "deliveries": deliveries}

    def end_call(self, call_id: str, state: str) -> dict:
        """Moves a ringing call to `state`; a call rings once and ends once."""
        call = self.calls.get(call_id)
        if call is None:
            raise ApiError(404, "no such call")
        if call["state"] != "Ringing":
            raise ApiError(409, f"the call is no longer ringing ({call['state']})")
        call["state"] = state
        return call

    async def cancel(self, call_id: str) -> tuple:
        call = self.end_call(call_id, "Cancelled")
        deliveries = await self.deliver(
            "apns_token",
            self.targets(call["to"], "apns_token"),
            lambda token: missed_call(self.bundle, token, call_id, call["from"]),
        )
        return 200, {"call_id": call_id, "deliveries": deliveries}

    async def answer(self, call_id: str, body) -> tuple:
        device = fields(body, {"device": True})["device"]
        call = self.calls.get(call_id)
        if call is None:
            raise ApiError(404, "no such call")
        if device not in self.users.get(call["to"], {}):
            raise ApiError(400, f"device {json.dumps(device)} is not one of the callee's devices")
        self.end_call(call_id, "Answered")
        deliveries = await self.deliver(
            "apns_token",
            self.targets(call["to"], "apns_token", device),
            lambda token: answered_elsewhere(self.bundle, token, call_id),
        )
        return 200, {"call_id": call_id, "deliveries": deliveries}

    async def route(self, method: str, path: str, body) -> tuple:
        segments = path.strip("/").split("/")
        known = (len(segments) == 1 and segments[0] in ("health", "devices", "calls")) or (
            len(segments) == 3 and segments[0] == "calls" and segments[2] in ("cancel", "answer")
        )
        if not known:
            raise ApiError(404, f"no route {method} {path}")
        if segments == ["health"] and method == "GET":
            return 200, {"status": "ok"}
        if method != "POST" or segments == ["health"]:
            raise ApiError(405, f"{method} is not allowed on {path}")
        if segments == ["devices"]:
            return await self.register(body())
        if segments == ["calls"]:
            return await self.call(body())
        if not UUID.match(segments[1]):
            raise ApiError(404, "no such call")
        call_id = segments[1].lower()
        if segments[2] == "cancel":
            return await self.cancel(call_id)
        return await self.answer(call_id, body())


def fields(body, allowed: dict) -> dict:
    """Checks a JSON body: an object of strings; `allowed` maps each name to required-ness."""
    if not isinstance(body, dict):
        raise ApiError(400, "invalid JSON body: expected an object")
    for key in body:
        if key not in allowed:
            raise ApiError(400, f"invalid JSON body: unknown field `{key}`")
    for key, is_required in allowed.items():
        value = body.get(key)
        if value is None:
            if is_required:
                raise ApiError(400, f"invalid JSON body: missing field `{key}`")
        elif not isinstance(value, str):
            raise ApiError(400, f"invalid JSON body: `{key}` must be a string")
    return body


def handler_for(app: App, loop: asyncio.AbstractEventLoop):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle_any(self) -> None:
            path = urlsplit(self.path).path
            raw = self.rfile.read(min(int(self.headers.get("content-length") or 0), MAX_BODY + 1))

            def body():
                if len(raw) > MAX_BODY:
                    raise ApiError(400, "reading the body: too large")
                try:
                    return json.loads(raw)
                except ValueError as error:
                    raise ApiError(400, f"invalid JSON body: {error}")

            future = asyncio.run_coroutine_threadsafe(app.route(self.command, path, body), loop)
            try:
                status, answer = future.result()
            except ApiError as error:
                status, answer = error.status, {"error": str(error)}
            except Exception as error:  # a bug here: say so, keep serving
                status, answer = 500, {"error": f"{type(error).__name__}: {error}"}
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any

        def log_message(self, format: str, *args) -> None:
            print(f"{self.command} {self.path}: {format % args}", file=sys.stderr)

    return Handler


async def main() -> None:
    loop = asyncio.get_running_loop()
    app = App()
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT") or 0)), handler_for(app, loop))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"listening on http://127.0.0.1:{server.server_port}", flush=True)
    await asyncio.Event().wait()  # serve until the harness stops the process (SIGTERM)


if __name__ == "__main__":
    asyncio.run(main())
