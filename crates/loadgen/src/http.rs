//! The HTTP side: a loopback-only target and one shared, pooled client.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Client, StatusCode, Url};
use serde::de::DeserializeOwned;

/// A checked base URL: plain HTTP to a loopback host.
pub struct Target {
    /// The base URL without a trailing slash; API paths are appended to it.
    pub base: String,
    /// For `localhost`: the loopback addresses it resolved to, pinned in the client so that a
    /// later lookup cannot send traffic elsewhere.
    pinned: Option<(String, Vec<SocketAddr>)>,
}

impl Target {
    pub async fn new(base_url: &str) -> Result<Self> {
        let url = Url::parse(base_url).with_context(|| format!("`{base_url}` is not a URL"))?;
        if url.scheme() != "http" {
            bail!("`{base_url}`: only plain http:// to a loopback address is supported");
        }
        if url.query().is_some() || url.fragment().is_some() {
            bail!("`{base_url}`: the base URL cannot have a query or fragment");
        }
        let host = url.host_str().unwrap_or("").to_string();
        let literal = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok();
        let pinned = match literal {
            Some(ip) if is_loopback(ip) => None,
            Some(_) => bail!(
                "refusing `{base_url}`: host `{host}` is not loopback (127.x.x.x, localhost or [::1]); traffic must stay on this machine"
            ),
            None if host.is_empty() => bail!("`{base_url}` has no host"),
            None if is_localhost(&host) => {
                let port = url.port_or_known_default().unwrap_or(80);
                let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
                    .await
                    .with_context(|| format!("resolving `{host}`"))?
                    .collect();
                if addrs.is_empty() || !addrs.iter().all(|a| is_loopback(a.ip())) {
                    bail!(
                        "`{host}` resolves to {addrs:?}, not only loopback addresses; refusing to send traffic there"
                    );
                }
                Some((host.clone(), addrs))
            }
            None => bail!(
                "refusing `{base_url}`: host `{host}` is not loopback (127.x.x.x, localhost or [::1]); traffic must stay on this machine"
            ),
        };
        Ok(Self { base: url.as_str().trim_end_matches('/').to_string(), pinned })
    }
}

fn is_localhost(d: &str) -> bool {
    let d = d.trim_end_matches('.').to_ascii_lowercase();
    d == "localhost" || d.ends_with(".localhost")
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// One response, timed from sending the request to the last byte of the body.
pub struct Timed {
    pub status: StatusCode,
    pub body: Vec<u8>,
    pub elapsed: Duration,
}

/// What went wrong below HTTP.
pub fn transport_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else if e.is_request() {
        "request"
    } else {
        "other"
    }
}

/// An error with its causes (`reqwest::Error`'s own message omits them).
pub fn describe(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Pause after a transport failure so a dead server is not hammered in a tight loop.
pub async fn back_off() {
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
}

/// The shared client plus the base URL.
#[derive(Clone)]
pub struct Api {
    client: Client,
    base: String,
}

impl Api {
    pub fn new(target: &Target, token: &str, pool: usize, timeout: Duration) -> Result<Self> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {token}"))
            .context("the token has characters a header cannot carry")?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        let mut builder = Client::builder()
            .default_headers(headers)
            .http1_only()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(pool.max(1))
            .pool_idle_timeout(Duration::from_secs(90))
            .connect_timeout(Duration::from_secs(5))
            .timeout(timeout)
            // Never through a proxy from the environment, never redirected off the machine.
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("salesflow-load/", env!("CARGO_PKG_VERSION")));
        if let Some((host, addrs)) = &target.pinned {
            builder = builder.resolve_to_addrs(host, addrs);
        }
        Ok(Self { client: builder.build().context("building the HTTP client")?, base: target.base.clone() })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A `GET` of `path` (with its query), timed to the end of the body.
    pub async fn get(&self, path_and_query: &str) -> Result<Timed, reqwest::Error> {
        let req = self.client.get(self.url(path_and_query));
        send(req).await
    }

    /// A `POST` of a JSON body, timed to the end of the response body.
    pub async fn post_json(&self, path: &str, body: Vec<u8>) -> Result<Timed, reqwest::Error> {
        let req = self.client.post(self.url(path)).header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
        send(req).await
    }

    /// A `PATCH` of a JSON body.
    pub async fn patch_json(&self, path: &str, body: Vec<u8>) -> Result<Timed, reqwest::Error> {
        let req =
            self.client.patch(self.url(path)).header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
        send(req).await
    }

    /// A setup `GET` that must answer 200 with JSON.
    pub async fn get_json<T: DeserializeOwned>(&self, path_and_query: &str) -> Result<T> {
        let t = self.get(path_and_query).await.with_context(|| format!("GET {}", self.url(path_and_query)))?;
        if t.status != StatusCode::OK {
            bail!("GET {} answered {}: {}", self.url(path_and_query), t.status, snippet(&t.body, 500));
        }
        serde_json::from_slice(&t.body)
            .with_context(|| format!("GET {}: unexpected JSON: {}", path_and_query, snippet(&t.body, 300)))
    }
}

async fn send(req: reqwest::RequestBuilder) -> Result<Timed, reqwest::Error> {
    let start = Instant::now();
    let resp = req.send().await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    let elapsed = start.elapsed();
    Ok(Timed { status, body: body.to_vec(), elapsed })
}

/// The start of a body, for error reports.
pub fn snippet(body: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(body);
    let s = s.trim();
    if s.chars().count() <= max { s.to_string() } else { format!("{}…", s.chars().take(max).collect::<String>()) }
}
