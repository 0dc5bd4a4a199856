//! A fresh environment for one row: moto, one SQLite gateway, a target pointing at moto.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::api::Api;
use crate::procs::{Gateway, GatewayConfig, Moto};

/// Name of the target every row creates.
pub const TARGET: &str = "/bench/target";

pub struct Env {
    pub moto: Moto,
    pub gateway: Gateway,
    pub api: Api,
}

impl Env {
    /// moto plus a SQLite gateway (in `work/<tag>`) with a target on moto.
    pub async fn start(work: &Path, tag: &str, binary: PathBuf) -> Result<Env> {
        let moto = Moto::spawn(work).await?;
        let mut config = GatewayConfig::new(binary, None);
        config.allowed_endpoints = Some(moto.url.clone());
        let (gateway, _) = Gateway::spawn(&config, &work.join(tag)).await?;
        let api = gateway.api().await?;
        api.create_target(TARGET, &moto.url).await?;
        Ok(Env { moto, gateway, api })
    }
}
