//! Picking free loopback ports.
//!
//! The gateway takes its address as `--listen 127.0.0.1:<port>`, so the port must be chosen
//! before the process starts. Asking the kernel for port 0 and releasing it again leaves a small
//! window in which someone else may take the port; the spawner copes with that by retrying on a
//! new port when the child exits early. Within one test process we also never hand out the same
//! port twice, so parallel tests in one binary cannot collide with each other.

use std::collections::HashSet;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::{Mutex, OnceLock};

use crate::TestkitError;

/// Ports already handed out by this process.
fn handed_out() -> &'static Mutex<HashSet<u16>> {
    static PORTS: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    PORTS.get_or_init(|| Mutex::new(HashSet::new()))
}

/// Returns a loopback TCP port that was free a moment ago and that this process has not handed
/// out before.
pub fn free_loopback_port() -> Result<u16, TestkitError> {
    // A handful of tries is plenty: the kernel rarely repeats a port soon.
    for _ in 0..64 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| TestkitError::io("binding 127.0.0.1:0 to find a free port", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| TestkitError::io("reading the address of a bound socket", e))?
            .port();
        drop(listener);
        let mut ports = handed_out()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if ports.insert(port) {
            return Ok(port);
        }
    }
    Err(TestkitError::io(
        "finding a free loopback port",
        std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            "the kernel kept returning ports this process already used",
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returned_port_is_bindable_on_loopback() {
        let port = free_loopback_port().expect("a free port");
        assert_ne!(port, 0);
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("the returned port can be bound");
    }

    #[test]
    fn never_returns_the_same_port_twice() {
        let ports: Vec<u16> = (0..50)
            .map(|_| free_loopback_port().expect("a free port"))
            .collect();
        let unique: HashSet<u16> = ports.iter().copied().collect();
        assert_eq!(unique.len(), ports.len(), "duplicates in {ports:?}");
    }
}
