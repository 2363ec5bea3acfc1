"""One push with aioapns (token auth), pointed at mock-apns.

aioapns has no host or port option: its connection classes carry them as class attributes
(APNS_SERVER, APNS_PORT), set here from APNS_HOST and APNS_PORT. Its TLS context is the
caller's `ssl_context`, here one that trusts APNS_CA (or, unset, the default trust store,
which honours SSL_CERT_FILE). It offers no ALPN and speaks HTTP/2 with prior knowledge.
HTTPS_PROXY, when set, becomes its proxy_host/proxy_port (an HTTP CONNECT tunnel).

Prints {"result": <NotificationResult's fields>, "alpn": <protocol the TLS layer agreed>,
"body_bytes": N} for tests/clients.rs.
"""

import asyncio
import json
import os
import ssl
import sys
from urllib.parse import urlsplit

from aioapns import APNs, NotificationRequest, PushType
from aioapns.connection import APNsDevelopmentClientProtocol


def required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"{name} is not set")
    return value


def push_from_env() -> dict:
    """$PUSH (JSON): token, topic, push_type, priority, expiration, payload, pad_to."""
    push = json.loads(required("PUSH"))
    # aioapns serializes with json.dumps(message, ensure_ascii=False): default separators,
    # so ", " and ": " with spaces. Measure the same way.
    size = lambda payload: len(json.dumps(payload, ensure_ascii=False).encode())
    if push.get("pad_to"):
        push["payload"]["pad"] = ""
        push["payload"]["pad"] = "x" * (push["pad_to"] - size(push["payload"]))
    push["body_bytes"] = size(push["payload"])
    return push


async def main() -> None:
    push = push_from_env()
    if os.environ.get("APNS_HOST"):
        APNsDevelopmentClientProtocol.APNS_SERVER = os.environ["APNS_HOST"]
    if os.environ.get("APNS_PORT"):
        APNsDevelopmentClientProtocol.APNS_PORT = int(os.environ["APNS_PORT"])
    ssl_context = ssl.create_default_context(cafile=os.environ.get("APNS_CA") or None)
    proxy = urlsplit(os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy") or "")

    apns = APNs(
        key=open(required("APNS_KEY_FILE")).read(),
        key_id=required("APNS_KEY_ID"),
        team_id=required("APNS_TEAM_ID"),
        topic=push["topic"],
        use_sandbox=True,
        ssl_context=ssl_context,
        proxy_host=proxy.hostname,
        proxy_port=proxy.port,
        max_connection_attempts=1,
    )
    request = NotificationRequest(
        device_token=push["token"],
        message=push["payload"],
        priority=push.get("priority"),
        push_type=PushType(push["push_type"]),
        time_to_live=push.get("time_to_live"),
    )
    result = await asyncio.wait_for(apns.send_notification(request), timeout=20)
    alpn = [
        c.transport.get_extra_info("ssl_object").selected_alpn_protocol()
        for c in apns.pool.connections
        if c.transport is not None and c.transport.get_extra_info("ssl_object")
    ]
    for connection in apns.pool.connections:
        connection.close()
    print(
        json.dumps(
            {
                "result": {
                    "notification_id": result.notification_id,
                    "status": result.status,
                    "description": result.description,
                    "timestamp": result.timestamp,
                    "is_successful": result.is_successful,
                },
                "alpn": alpn,
                "body_bytes": push["body_bytes"],
            }
        )
    )


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception as error:  # the script failed, not APNs: say so and exit non-zero
        print(f"aioapns_push.py: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
