//! An async HTTPS client for the gateway's API: trusts only the gateway's generated CA, logs
//! in once and sends the token in every body (as the Akeyless SDKs do).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

/// Fixed target credentials: moto without authentication accepts any key.
pub const TARGET_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const TARGET_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

#[derive(Clone)]
pub struct Api {
    base: String,
    client: reqwest::Client,
    token: String,
}

/// One timed request: wall time at the client and the gateway's own time (`gateway;dur`).
#[derive(Debug, Clone, Copy)]
pub struct Timed {
    pub wall_ms: f64,
    pub gateway_ms: Option<f64>,
}

impl Api {
    fn client(ca: &Path, timeout: Duration) -> Result<reqwest::Client> {
        let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
        let text = String::from_utf8_lossy(&pem);
        if !text.contains("-----END CERTIFICATE-----") {
            bail!("{} is not complete yet", ca.display());
        }
        Ok(reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem)?)
            .tls_built_in_root_certs(false)
            .no_proxy()
            .pool_max_idle_per_host(512)
            .timeout(timeout)
            .build()?)
    }

    /// A short-timeout client for readiness probes.
    pub fn probe_client(ca: &Path) -> Result<reqwest::Client> {
        Self::client(ca, Duration::from_secs(2))
    }

    /// Logs in with an API key.
    pub async fn login(base: &str, ca: &Path, access_id: &str, access_key: &str) -> Result<Api> {
        let client = Self::client(ca, Duration::from_secs(120))?;
        let response = client
            .post(format!("{base}/auth"))
            .json(&json!({"access-id": access_id, "access-key": access_key, "access-type": "access_key"}))
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        let token = body
            .get("token")
            .and_then(Value::as_str)
            .with_context(|| format!("/auth answered {status}: {body}"))?
            .to_owned();
        Ok(Api {
            base: base.to_owned(),
            client,
            token,
        })
    }

    fn body(&self, mut body: Value) -> Value {
        if let Value::Object(map) = &mut body {
            map.insert("token".into(), Value::String(self.token.clone()));
        }
        body
    }

    /// POSTs and expects a 2xx JSON answer.
    pub async fn call(&self, path: &str, body: Value) -> Result<Value> {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .json(&self.body(body))
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("POST {path} answered {status}: {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// POSTs and times the request; the body is read completely.
    pub async fn timed(&self, path: &str, body: &Value) -> Result<Timed> {
        let body = self.body(body.clone());
        let started = Instant::now();
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await?;
        let status = response.status().as_u16();
        let gateway_ms = response
            .headers()
            .get("server-timing")
            .and_then(|v| v.to_str().ok())
            .and_then(gateway_dur);
        let bytes = response.bytes().await?;
        let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
        if !(200..300).contains(&status) {
            bail!(
                "POST {path} answered {status}: {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        Ok(Timed {
            wall_ms,
            gateway_ms,
        })
    }

    /// POSTs and returns the status and whether `Retry-After` came with it (transport
    /// failures count as status 0).
    pub async fn status_of(&self, path: &str, body: &Value) -> (u16, bool) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .json(&self.body(body.clone()))
            .send()
            .await;
        match response {
            Ok(r) => {
                let status = r.status().as_u16();
                let retry = r.headers().contains_key("retry-after");
                let _ = r.bytes().await;
                (status, retry)
            }
            Err(_) => (0, false),
        }
    }

    /// A target pointing at moto.
    pub async fn create_target(&self, name: &str, moto_url: &str) -> Result<()> {
        self.call(
            "/create-aws-target",
            json!({
                "name": name,
                "access-key-id": TARGET_KEY_ID,
                "access-key": TARGET_SECRET,
                "region": "us-east-1",
                "iam-endpoint": moto_url,
                "sts-endpoint": moto_url,
            }),
        )
        .await
        .map(drop)
    }

    /// A producer; `fields` holds the mode-specific fields.
    pub async fn create_producer(&self, name: &str, target: &str, mut fields: Value) -> Result<()> {
        if let Value::Object(map) = &mut fields {
            map.insert("name".into(), name.into());
            map.insert("target-name".into(), target.into());
        }
        self.call("/gateway-create-producer-aws", fields)
            .await
            .map(drop)
    }

    pub async fn revoke_all(&self, producer: &str) -> Result<()> {
        self.call(
            "/gateway-revoke-producer-tmp-creds",
            json!({"name": producer, "revoke-all": true}),
        )
        .await
        .map(drop)
    }

    pub async fn metrics(&self) -> Result<String> {
        Ok(self
            .client
            .get(format!("{}/metrics", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?
            .text()
            .await?)
    }
}

/// The `gateway;dur=<ms>` part of a `Server-Timing` header.
pub fn gateway_dur(header: &str) -> Option<f64> {
    header.split(',').find_map(|part| {
        let part = part.trim();
        let rest = part.strip_prefix("gateway")?;
        rest.split(';')
            .find_map(|p| p.trim().strip_prefix("dur="))
            .and_then(|v| v.trim().parse().ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_timing_gateway_part() {
        assert_eq!(gateway_dur("aws;dur=12.500, gateway;dur=0.310"), Some(0.31));
        assert_eq!(gateway_dur("gateway;dur=1"), Some(1.0));
        assert_eq!(gateway_dur("aws;dur=12.5"), None);
        assert_eq!(gateway_dur("gateway;desc=x"), None);
    }
}
