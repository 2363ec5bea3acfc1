//! The start-up banner: where everything is, and a curl command that works as printed, from
//! any directory (paths are absolute).

use mock_apns::{Bound, Environment};

use crate::startup_error::absolute;

pub(crate) fn print_banner(
    bound: &Bound,
    environment: Environment,
    record: Option<&std::path::Path>,
) {
    let ca = bound.ca_path.as_deref().map_or("-".into(), absolute);
    let key_path = bound.dev_key_path.as_deref().map_or("-".into(), absolute);
    let key = &bound.dev_key;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let token = key.token(now);
    let device = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
    println!(
        "mock-apns {version} ({environment})\n\
         \x20 APNs endpoint  {apns}   (HTTP/2 over TLS)\n\
         \x20 web UI         {admin}/   (every push, live, as the phone would show it)\n\
         \x20 admin API      {admin}/api/v1/\n\
         \x20 trust this CA  {ca}\n\
         \x20 dev key        {key_path}  key id {kid}  team id {team}\n\
         \x20 record file    {record}\n\
         {proxy}\
         \n\
         Open {admin}/ in a browser, then send a VoIP push (the JWT below is valid for one hour):\n\
         \n\
         curl --http2 --cacert {ca} \\\n\
         \x20 -H 'authorization: bearer {token}' \\\n\
         \x20 -H 'apns-push-type: voip' -H 'apns-topic: com.example.app.voip' \\\n\
         \x20 -H 'apns-priority: 10' -H 'apns-expiration: 0' \\\n\
         \x20 -d '{{\"aps\":{{}},\"call_id\":\"42\",\"caller\":\"Alice\"}}' \\\n\
         \x20 -i {apns}/3/device/{device}\n\
         \n\
         Then see it: curl -s {admin}/api/v1/pushes\n",
        version = env!("CARGO_PKG_VERSION"),
        apns = bound.apns_url(),
        admin = bound.admin_url(),
        kid = key.key_id(),
        team = key.team_id(),
        record = record.map_or("-".into(), absolute),
        proxy = bound.connect_proxy_addr.map_or(String::new(), |a| format!(
            "  CONNECT proxy  http://{a}   (HTTPS_PROXY for clients that keep Apple's host name)\n"
        )),
    );
}
