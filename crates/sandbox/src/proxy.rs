//! The allowlisting HTTP proxy that the network profiles' commands reach the internet through.
//!
//! It runs in cadre's own process on 127.0.0.1 (plain threads, so it serves sync and async
//! callers alike), speaks `CONNECT host:port` for HTTPS and absolute-URI forwarding for plain
//! HTTP, lets through the allowlisted domains and refuses (and logs) the rest. Landlock lets the
//! sandboxed command open TCP connections to this port only.

use cadre_protocol::DomainAllowlist;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const MAX_HEAD: usize = 64 * 1024;
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One decision of the proxy, for whoever keeps a record of network access (the audit log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyDecision {
    pub host: String,
    pub port: u16,
    pub allowed: bool,
    pub reason: String,
}

/// Told of every decision, on the proxy's threads: keep it quick (queue the decision).
pub type ProxyObserver = Arc<dyn Fn(ProxyDecision) + Send + Sync>;

/// A running proxy; stops accepting when dropped.
#[derive(Debug)]
pub struct NetworkProxy {
    port: u16,
    stopping: Arc<AtomicBool>,
}

impl NetworkProxy {
    /// Listens on an ephemeral port of 127.0.0.1 and serves in background threads.
    pub fn start(allowlist: DomainAllowlist) -> io::Result<Self> {
        Self::start_observed(allowlist, None)
    }

    /// As [`NetworkProxy::start`], telling `observer` of every allow and deny.
    pub fn start_observed(
        allowlist: DomainAllowlist,
        observer: Option<ProxyObserver>,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))?;
        let port = listener.local_addr()?.port();
        let stopping = Arc::new(AtomicBool::new(false));
        let allowlist = Arc::new(allowlist);
        let stop = stopping.clone();
        std::thread::Builder::new()
            .name("cadre-proxy".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let allowlist = allowlist.clone();
                    let observer = observer.clone();
                    let _ = std::thread::Builder::new()
                        .name("cadre-proxy-conn".into())
                        .spawn(move || {
                            if let Err(e) = serve(stream, &allowlist, observer.as_ref()) {
                                tracing::debug!(error = %e, "proxy connection ended with an error");
                            }
                        });
                }
            })?;
        Ok(NetworkProxy { port, stopping })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`, the value of the `*_PROXY` variables.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for NetworkProxy {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(
            &SocketAddr::from(([127, 0, 0, 1], self.port)),
            Duration::from_millis(200),
        );
    }
}

/// The parsed first line of a proxied request.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    Tunnel {
        host: String,
        port: u16,
    },
    Forward {
        host: String,
        port: u16,
        path: String,
    },
}

fn split_host_port(authority: &str, default_port: u16) -> Option<(String, u16)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => default_port,
            None => return None,
        };
        return Some((host.to_string(), port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host.to_string(), port.parse().ok()?)),
        None => Some((authority.to_string(), default_port)),
    }
}

fn parse_target(method: &str, target: &str) -> Option<Target> {
    if method.eq_ignore_ascii_case("CONNECT") {
        let (host, port) = split_host_port(target, 443)?;
        return Some(Target::Tunnel { host, port });
    }
    let rest = target.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let (host, port) = split_host_port(authority, 80)?;
    Some(Target::Forward {
        host,
        port,
        path: path.to_string(),
    })
}

fn respond(stream: &mut TcpStream, status: &str, body: &str) -> io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn serve(
    mut client: TcpStream,
    allowlist: &DomainAllowlist,
    observer: Option<&ProxyObserver>,
) -> io::Result<()> {
    client.set_read_timeout(Some(HEAD_TIMEOUT))?;
    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let n = client.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        if buf.len() > MAX_HEAD {
            return respond(&mut client, "431 Request Header Fields Too Large", "");
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let leftover = buf[head_end..].to_vec();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split_whitespace();
    let (method, target, version) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or("HTTP/1.1"),
    );
    let Some(parsed) = parse_target(method, target) else {
        return respond(
            &mut client,
            "400 Bad Request",
            "cadre proxy: only CONNECT and absolute http:// URLs are proxied\n",
        );
    };
    let (host, port) = match &parsed {
        Target::Tunnel { host, port } | Target::Forward { host, port, .. } => (host.clone(), *port),
    };
    let tell = |allowed: bool, reason: &str| {
        if let Some(observer) = observer {
            observer(ProxyDecision {
                host: host.clone(),
                port,
                allowed,
                reason: reason.to_string(),
            });
        }
    };
    if !allowlist.allows(&host) {
        tracing::warn!(%host, port, "network proxy denied a domain outside the allowlist");
        tell(false, "not on the network allowlist");
        return respond(
            &mut client,
            "403 Forbidden",
            &format!("cadre proxy: {host} is not on the network allowlist\n"),
        );
    }
    let upstream = match connect(&host, port, allowlist) {
        Ok(stream) => stream,
        Err(ConnectError::Denied) => {
            tracing::warn!(%host, port, "network proxy denied a local address");
            tell(
                false,
                "resolves to a local address not named in the allowlist",
            );
            return respond(
                &mut client,
                "403 Forbidden",
                &format!(
                    "cadre proxy: {host} resolves to a local address; name it in the allowlist to reach it\n"
                ),
            );
        }
        Err(ConnectError::Io(e)) => {
            return respond(
                &mut client,
                "502 Bad Gateway",
                &format!("cadre proxy: cannot reach {host}:{port}: {e}\n"),
            );
        }
    };
    tracing::debug!(%host, port, "network proxy allowed");
    tell(true, "on the network allowlist");
    let mut upstream_writer = upstream.try_clone()?;
    match parsed {
        Target::Tunnel { .. } => {
            client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
        }
        Target::Forward { path, .. } => {
            let mut forwarded = format!("{method} {path} {version}\r\n");
            for line in lines.filter(|l| !l.is_empty()) {
                let name = line.split(':').next().unwrap_or_default().trim();
                let hop_by_hop = [
                    "proxy-connection",
                    "proxy-authorization",
                    "connection",
                    "keep-alive",
                ]
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h));
                if !hop_by_hop {
                    forwarded.push_str(line);
                    forwarded.push_str("\r\n");
                }
            }
            forwarded.push_str("Connection: close\r\n\r\n");
            upstream_writer.write_all(forwarded.as_bytes())?;
        }
    }
    upstream_writer.write_all(&leftover)?;
    client.set_read_timeout(None)?;
    splice(client, upstream)
}

enum ConnectError {
    Denied,
    Io(io::Error),
}

fn connect(host: &str, port: u16, allowlist: &DomainAllowlist) -> Result<TcpStream, ConnectError> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(ConnectError::Io)?
        .collect();
    let permitted: Vec<SocketAddr> = addrs
        .into_iter()
        .filter(|a| allowlist.allows_address(host, a.ip()))
        .collect();
    if permitted.is_empty() {
        return Err(ConnectError::Denied);
    }
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in permitted {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(ConnectError::Io(last))
}

/// Copies both ways until both sides are done.
fn splice(client: TcpStream, upstream: TcpStream) -> io::Result<()> {
    let mut client_reader = client.try_clone()?;
    let mut upstream_writer = upstream.try_clone()?;
    let outbound = std::thread::spawn(move || {
        let _ = io::copy(&mut client_reader, &mut upstream_writer);
        let _ = upstream_writer.shutdown(Shutdown::Write);
    });
    let (mut upstream_reader, mut client_writer) = (upstream, client);
    let _ = io::copy(&mut upstream_reader, &mut client_writer);
    let _ = client_writer.shutdown(Shutdown::Write);
    let _ = outbound.join();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proxy_targets() {
        assert_eq!(
            parse_target("CONNECT", "example.com:443"),
            Some(Target::Tunnel {
                host: "example.com".into(),
                port: 443
            })
        );
        assert_eq!(
            parse_target("GET", "http://[::1]:8080/a?b"),
            Some(Target::Forward {
                host: "::1".into(),
                port: 8080,
                path: "/a?b".into()
            })
        );
        assert_eq!(
            parse_target("GET", "http://example.com"),
            Some(Target::Forward {
                host: "example.com".into(),
                port: 80,
                path: "/".into()
            })
        );
        assert_eq!(parse_target("GET", "/relative"), None);
    }

    #[test]
    fn forwards_allowed_and_refuses_others() {
        let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
        let upstream_port = upstream.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut s, _) = upstream.accept().unwrap();
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).unwrap();
            let request = String::from_utf8_lossy(&buf[..n]).into_owned();
            assert!(request.starts_with("GET /hello HTTP/1.1\r\n"), "{request}");
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
                .unwrap();
        });
        let proxy = NetworkProxy::start(DomainAllowlist::new(&["127.0.0.1".into()])).unwrap();
        let fetch = |target: &str| {
            let mut s = TcpStream::connect(("127.0.0.1", proxy.port())).unwrap();
            write!(s, "GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out
        };
        let ok = fetch(&format!("http://127.0.0.1:{upstream_port}/hello"));
        assert!(ok.starts_with("HTTP/1.1 200") && ok.ends_with("hi"), "{ok}");
        let denied = fetch(&format!("http://localhost:{upstream_port}/hello"));
        assert!(denied.starts_with("HTTP/1.1 403"), "{denied}");
    }
}
