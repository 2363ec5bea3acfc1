//! Which APNs connections came through the CONNECT front door, and where each asked to go.
//!
//! The front door opens its connection to the mock's APNs port from a local address it binds
//! first, and registers that address with the CONNECT target before connecting; the APNs side
//! sees the same address as its peer and looks the target up when it accepts. An entry lives
//! as long as its tunnel.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Open tunnels, by the local address of their connection to the APNs port.
#[derive(Debug, Default)]
pub(crate) struct Tunnels {
    /// Held for one insert, removal or lookup per tunnel; never across an await.
    open: Mutex<HashMap<SocketAddr, Arc<str>>>,
}

impl Tunnels {
    /// Registers a tunnel whose connection to the APNs port leaves from `local`; it is
    /// forgotten when the returned guard drops.
    pub(crate) fn open(self: &Arc<Self>, local: SocketAddr, target: Arc<str>) -> TunnelGuard {
        self.lock().insert(local, target);
        TunnelGuard {
            tunnels: self.clone(),
            local,
        }
    }

    /// The CONNECT target of the tunnel whose connection comes from `peer`, if it is one.
    pub(crate) fn target_of(&self, peer: SocketAddr) -> Option<Arc<str>> {
        self.lock().get(&peer).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Arc<str>>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Keeps a tunnel registered while it is open.
#[derive(Debug)]
pub(crate) struct TunnelGuard {
    tunnels: Arc<Tunnels>,
    local: SocketAddr,
}

impl Drop for TunnelGuard {
    fn drop(&mut self) {
        self.tunnels.lock().remove(&self.local);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tunnel_is_known_by_its_local_address_until_it_closes() {
        let tunnels = Arc::new(Tunnels::default());
        let local = SocketAddr::from(([127, 0, 0, 1], 40000));
        let guard = tunnels.open(local, "api.push.apple.com:443".into());
        assert_eq!(
            tunnels.target_of(local).as_deref(),
            Some("api.push.apple.com:443")
        );
        assert_eq!(
            tunnels.target_of(SocketAddr::from(([127, 0, 0, 1], 40001))),
            None
        );
        drop(guard);
        assert_eq!(tunnels.target_of(local), None);
    }
}
