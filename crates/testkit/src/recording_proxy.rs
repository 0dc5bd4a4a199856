//! A recording HTTP proxy in front of moto: what moto does not check (an `ExternalId`, a role
//! session name, how many `AssumeRole` calls a burst of requests makes), the test reads from
//! the requests the proxy saw.
//!
//! It is the AWS network proxy ([`mayfly_aws_netsim::NetSim`]) without delay or throttling,
//! recording every call, with one fault of its own: new keys that fail their first uses.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use mayfly_aws_netsim::{Canned, NetSim, NetSimConfig};

/// One request the proxy forwarded: its form fields (`field`, `action`) and signing key.
pub use mayfly_aws_netsim::Call as Seen;

/// Keys that fail their first uses (IAM's eventual consistency, made certain).
#[derive(Debug, Default)]
struct NewKeyFaults {
    /// How many first uses of each key fail.
    first_uses: usize,
    /// Keys that never fail (the target's own).
    except: Vec<String>,
    uses: HashMap<String, usize>,
}

impl NewKeyFaults {
    /// Counts a use of `key`; whether it is one of the uses that fail.
    fn refuses(&mut self, key: &str) -> bool {
        if self.first_uses == 0 || self.except.iter().any(|k| k == key) {
            return false;
        }
        let uses = self.uses.entry(key.to_owned()).or_default();
        *uses += 1;
        *uses <= self.first_uses
    }
}

/// AWS's answer to a key it does not know (yet).
const UNKNOWN_KEY: &str = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>";

/// The proxy; stops when dropped.
pub struct RecordingProxy {
    aws: NetSim,
    faults: Arc<Mutex<NewKeyFaults>>,
}

impl RecordingProxy {
    /// Forwards to `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> RecordingProxy {
        let aws = NetSim::start(upstream, NetSimConfig::new().record_calls())
            .unwrap_or_else(|e| panic!("recording proxy: {e}"));
        let faults = Arc::new(Mutex::new(NewKeyFaults::default()));
        let injected = faults.clone();
        aws.intercept(Some(Arc::new(move |call: &Seen| {
            let key = call.access_key_id.as_deref()?;
            let mut faults = injected.lock().unwrap_or_else(|p| p.into_inner());
            faults.refuses(key).then(|| Canned {
                status: 403,
                body: UNKNOWN_KEY.to_owned(),
            })
        })));
        RecordingProxy { aws, faults }
    }

    /// From now on, the first `first_uses` requests signed with any key but `except` are
    /// refused as AWS refuses a key it does not know yet (`InvalidClientTokenId`, 403).
    pub fn fail_new_keys(&self, first_uses: usize, except: &[&str]) {
        let mut f = self.faults.lock().unwrap_or_else(|p| p.into_inner());
        f.first_uses = first_uses;
        f.except = except.iter().map(|k| (*k).to_owned()).collect();
        f.uses.clear();
    }

    /// How many requests were signed with `access_key_id`.
    pub fn uses_of(&self, access_key_id: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.access_key_id.as_deref() == Some(access_key_id))
            .count()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.aws.url()
    }

    /// The requests forwarded so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.aws.calls()
    }

    /// The requests of one AWS action.
    pub fn calls(&self, action: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.action() == action)
            .collect()
    }
}
