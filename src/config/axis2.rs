//! `conf/axis2.xml`: transports and keystores, in Axis2's own shape.
//!
//! Users bring this file from Synapse or WSO2, so we read the same elements:
//! `<transportReceiver name="http|https">` and `<transportSender name="http|https">`, each with
//! `<parameter name="…">` children, and keystores as `<KeyStore>`/`<TrustStore>` blocks. The
//! `class` attributes name Java classes and are accepted and ignored. What we do not implement
//! is logged as a warning with its line, so a copied file still loads; a value we cannot use
//! is an error with its line.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use super::error::{ConfigError, ConfigErrors, Origin};
use super::xml::{self, Element};

/// A transport, named as in Axis2 and in a proxy's `transports` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Http,
    Https,
}

impl Transport {
    pub fn parse(name: &str) -> Option<Transport> {
        match name {
            "http" => Some(Transport::Http),
            "https" => Some(Transport::Https),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::Https => "https",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Transport::Http => 8280,
            Transport::Https => 8243,
        }
    }
}

/// `SSLVerifyClient`, exactly as Axis2's https receiver understands it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyClient {
    /// No certificate is requested.
    None,
    /// A certificate is requested; if one is sent it must verify.
    Optional,
    /// The handshake fails without a valid certificate.
    Require,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Tls12,
    Tls13,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreType {
    Pkcs12,
    Pem,
    /// Java KeyStore, as `keytool -storetype JKS` writes it (read only).
    Jks,
}

/// `HostnameVerifier` on the https sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostnameVerifier {
    /// The backend's certificate must name the host we connect to.
    Strict,
    /// The chain is verified, the name is not.
    AllowAll,
    /// Strict, except that connections to localhost / 127.0.0.1 / ::1 skip the name check.
    DefaultAndLocalhost,
}

/// A secret read from the configuration; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// `<KeyStore>`: a private key with its certificate chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyStoreConfig {
    pub location: PathBuf,
    pub store_type: StoreType,
    pub password: Secret,
    pub key_password: Option<Secret>,
    /// For PEM stores whose key is in a separate file.
    pub key_location: Option<PathBuf>,
    pub origin: Origin,
}

/// `<TrustStore>`: the certificates we trust as issuers of the peer's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustStoreConfig {
    pub location: PathBuf,
    pub store_type: StoreType,
    pub password: Secret,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTlsConfig {
    pub keystore: KeyStoreConfig,
    pub verify_client: VerifyClient,
    pub protocols: Vec<TlsVersion>,
    /// `PreferredCiphers`, as OpenSSL or IANA names; `None` keeps the secure defaults.
    pub ciphers: Option<Vec<String>>,
    pub origin: Origin,
}

/// How a receiver verifies client certificates — those of TLS handshakes and those a
/// trusted load balancer forwards — alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientVerification {
    pub truststore: Option<TrustStoreConfig>,
    /// `SSLVerifyDepth`: the most intermediate CA certificates allowed between a client
    /// certificate and the truststore CA it chains to (OpenSSL's meaning of verify depth).
    /// Default 5: real client PKIs use one to three, and a bound keeps a client from making
    /// the handshake check an arbitrarily long chain.
    pub verify_depth: u32,
    /// The `<CRLFile>`s of an enabled `CertificateRevocationVerifier`, resolved, each with
    /// the place it was named; empty when revocation is not checked.
    pub crl_files: Vec<(PathBuf, Origin)>,
    /// `<SoftFail>`: a CRL past its nextUpdate is used anyway (with a warning) instead of
    /// refusing every certificate it covers.
    pub crl_soft_fail: bool,
    pub origin: Origin,
}

/// `ClientCertificateHeader` and `TrustedProxies`: a client certificate forwarded by a
/// TLS-terminating load balancer, believed only from its addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedCertificate {
    /// The header's name, lower-case.
    pub header: String,
    pub trusted: Vec<crate::security::forwarded::Cidr>,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverConfig {
    pub transport: Transport,
    pub bind: SocketAddr,
    pub tls: Option<ServerTlsConfig>,
    pub clients: ClientVerification,
    pub forwarded: Option<ForwardedCertificate>,
    pub http: HttpLimits,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderTlsConfig {
    pub keystore: Option<KeyStoreConfig>,
    pub truststore: Option<TrustStoreConfig>,
    pub hostname_verifier: HostnameVerifier,
    /// `customSSLProfiles`: other stores for some backends (`host:port`).
    pub profiles: Vec<SslProfile>,
    pub origin: Origin,
}

/// One `<profile>` of `customSSLProfiles`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SslProfile {
    /// `host:port` pairs, compared case-insensitively on the host.
    pub servers: Vec<(String, u16)>,
    pub keystore: Option<KeyStoreConfig>,
    pub truststore: Option<TrustStoreConfig>,
    pub origin: Origin,
}

impl SenderTlsConfig {
    fn defaults(origin: Origin) -> Self {
        SenderTlsConfig { keystore: None, truststore: None, hostname_verifier: HostnameVerifier::Strict, profiles: Vec::new(), origin }
    }
}

/// Backend connection pooling, from either transportSender's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderPool {
    /// `MaxConnectionsPerHost` per worker thread (512).
    pub max_per_host: usize,
    /// `ConnectionIdleTimeout` in ms: how long an idle kept-alive connection is kept (30 s).
    pub idle_timeout: std::time::Duration,
    /// `ConnectTimeout` in ms: TCP connect and TLS handshake (10 s).
    pub connect_timeout: std::time::Duration,
}

impl Default for SenderPool {
    fn default() -> Self {
        SenderPool { max_per_host: 512, idle_timeout: std::time::Duration::from_secs(30), connect_timeout: std::time::Duration::from_secs(10) }
    }
}

impl SenderPool {
    /// Sets what a sender parameter names; `false` if it is not a pool setting.
    fn set(&mut self, p: &Element) -> Result<bool, ConfigError> {
        let name = p.attr("name").unwrap_or("");
        let v = || positive(p, name);
        match name {
            "MaxConnectionsPerHost" => self.max_per_host = v()? as usize,
            "ConnectionIdleTimeout" => self.idle_timeout = std::time::Duration::from_millis(v()?),
            "ConnectTimeout" => self.connect_timeout = std::time::Duration::from_millis(v()?),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// A parameter's value as a number above zero.
fn positive(p: &Element, name: &str) -> Result<u64, ConfigError> {
    let text = value(p)?;
    text.parse().ok().filter(|n| *n > 0).ok_or_else(|| p.error(format!("{name} must be a positive number, not '{text}'")))
}

/// What a receiver accepts at the HTTP level before mediation sees a request. The defaults
/// are safe for SOAP traffic: heads are small, bodies arrive without long pauses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpLimits {
    /// `MaxHeaderSize`: bytes of request header names and values (16 KiB; more → 431).
    pub max_header_size: usize,
    /// `MaxUriLength`: bytes of the request target (8 KiB; more → 414).
    pub max_uri_length: usize,
    /// `HeaderReadTimeout` in ms: time to send a request head, against slowloris (20 s).
    /// One value serves the whole server: the smallest any receiver gives.
    pub header_read_timeout: std::time::Duration,
    /// `BodyReadTimeout` in ms: the longest pause while sending a request body (60 s, as
    /// nginx's `client_body_timeout`; more → 408 and the connection is closed).
    pub body_read_timeout: std::time::Duration,
    /// `MaxConnections`: open connections on this receiver; requests on connections beyond
    /// it get 503 and the connection is closed (16,384).
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_header_size: 16 * 1024,
            max_uri_length: 8 * 1024,
            header_read_timeout: std::time::Duration::from_secs(20),
            body_read_timeout: std::time::Duration::from_secs(60),
            max_connections: 16_384,
        }
    }
}

impl HttpLimits {
    /// Sets what a receiver parameter names; `false` if it is not an HTTP limit.
    fn set(&mut self, p: &Element) -> Result<bool, ConfigError> {
        let name = p.attr("name").unwrap_or("");
        let v = || positive(p, name);
        match name {
            "MaxHeaderSize" => self.max_header_size = v()? as usize,
            "MaxUriLength" => self.max_uri_length = v()? as usize,
            "HeaderReadTimeout" => self.header_read_timeout = std::time::Duration::from_millis(v()?),
            "BodyReadTimeout" => self.body_read_timeout = std::time::Duration::from_millis(v()?),
            "MaxConnections" => self.max_connections = v()? as usize,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Bounds on reading a message into memory, from global `<parameter>`s of `axis2.xml`.
/// Defaults are Apache CXF's: element depth 100, 50,000 child elements, 500 attributes,
/// 64 KiB per attribute, 128 MiB of text; bodies read by mediation up to 10 MiB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageLimits {
    /// `MaxMessageSize`: bytes a mediator may read into memory (more → 413).
    pub max_message_size: usize,
    /// `XmlMaxElementDepth`
    pub max_element_depth: usize,
    /// `XmlMaxChildElements`
    pub max_child_elements: usize,
    /// `XmlMaxAttributeCount`
    pub max_attribute_count: usize,
    /// `XmlMaxAttributeSize`
    pub max_attribute_size: usize,
    /// `XmlMaxTextLength`
    pub max_text_length: usize,
}

impl Default for MessageLimits {
    fn default() -> Self {
        MessageLimits {
            max_message_size: 10 * 1024 * 1024,
            max_element_depth: 100,
            max_child_elements: 50_000,
            max_attribute_count: 500,
            max_attribute_size: 64 * 1024,
            max_text_length: 128 * 1024 * 1024,
        }
    }
}

impl MessageLimits {
    /// Sets the limit a global parameter names; `false` if the name is not a limit.
    fn set(&mut self, p: &Element) -> Result<bool, ConfigError> {
        let name = p.attr("name").unwrap_or("");
        let field = match name {
            "MaxMessageSize" => &mut self.max_message_size,
            "XmlMaxElementDepth" => &mut self.max_element_depth,
            "XmlMaxChildElements" => &mut self.max_child_elements,
            "XmlMaxAttributeCount" => &mut self.max_attribute_count,
            "XmlMaxAttributeSize" => &mut self.max_attribute_size,
            "XmlMaxTextLength" => &mut self.max_text_length,
            _ => return Ok(false),
        };
        *field = usize::try_from(positive(p, name)?).unwrap_or(usize::MAX);
        Ok(true)
    }
}

/// Everything we use from `axis2.xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Axis2Config {
    pub path: PathBuf,
    pub limits: MessageLimits,
    pub pool: SenderPool,
    pub receivers: Vec<ReceiverConfig>,
    /// Whether a `<transportSender name="http">` is declared (plain backends allowed).
    pub http_sender: bool,
    /// The https sender's TLS settings; `None` when no https sender is declared.
    pub https_sender: Option<SenderTlsConfig>,
}

impl Axis2Config {
    pub fn receiver(&self, t: Transport) -> Option<&ReceiverConfig> {
        self.receivers.iter().find(|r| r.transport == t)
    }

    /// Every keystore and truststore the file refers to.
    pub fn stores(&self) -> (Vec<&KeyStoreConfig>, Vec<&TrustStoreConfig>) {
        let mut keys = Vec::new();
        let mut trusts = Vec::new();
        for r in &self.receivers {
            keys.extend(r.tls.as_ref().map(|t| &t.keystore));
            trusts.extend(r.clients.truststore.as_ref());
        }
        if let Some(s) = &self.https_sender {
            keys.extend(s.keystore.as_ref());
            trusts.extend(s.truststore.as_ref());
            for p in &s.profiles {
                keys.extend(p.keystore.as_ref());
                trusts.extend(p.truststore.as_ref());
            }
        }
        (keys, trusts)
    }
}

/// Reads and validates `axis2.xml`. Relative store paths resolve against its folder.
pub fn load(path: &Path) -> Result<Axis2Config, ConfigErrors> {
    let root = xml::parse_file(path)?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut errors = ConfigErrors::default();
    if root.name != "axisconfig" {
        errors.push(root.error(format!("expected <axisconfig> as the root element, found <{}>", root.name)));
        return Err(errors);
    }
    let mut receivers: Vec<ReceiverConfig> = Vec::new();
    let mut limits = MessageLimits::default();
    let mut pool = SenderPool::default();
    let mut http_sender = false;
    let mut https_sender = None;
    for el in root.elements() {
        match el.name.as_str() {
            "transportReceiver" => match el.required_attr("name").map(Transport::parse) {
                Ok(Some(t)) => {
                    if receivers.iter().any(|r| r.transport == t) {
                        errors.push(el.error(format!("a second '{}' transportReceiver", t.name())));
                    } else if let Some(r) = errors.collect(receiver(el, t, &base)) {
                        receivers.push(r);
                    }
                }
                Ok(None) => log::warn!("{}: transport '{}' is not supported; ignored", el.origin, el.attr("name").unwrap_or("")),
                Err(e) => errors.push(e),
            },
            "transportSender" => match el.required_attr("name").map(Transport::parse) {
                Ok(Some(Transport::Http)) => {
                    http_sender = true;
                    for p in parameters(el) {
                        if !errors.collect(pool.set(p)).unwrap_or(true) {
                            warn_unknown_parameter(p, "http transportSender");
                        }
                    }
                }
                Ok(Some(Transport::Https)) => https_sender = errors.collect(sender(el, &base, &mut pool)),
                Ok(None) => log::debug!("{}: transport sender '{}' is not supported; ignored", el.origin, el.attr("name").unwrap_or("")),
                Err(e) => errors.push(e),
            },
            "parameter" => {
                let _ = errors.collect(limits.set(el));
            }
            // The rest of an Axis2 file (message builders, phases, modules, deployers…)
            // configures Java machinery we do not have.
            _ => {}
        }
    }
    if receivers.is_empty() && errors.is_empty() {
        errors.push(root.error("no http or https transportReceiver is configured"));
    }
    if let [a, b] = receivers.as_slice() {
        if a.bind == b.bind && a.bind.port() != 0 {
            errors.push(b.origin.error(format!("port {} is already used by the {} receiver", b.bind, a.transport.name())));
        }
    }
    errors.into_result(Axis2Config { path: path.to_path_buf(), limits, pool, receivers, http_sender, https_sender })
}

fn receiver(el: &Element, transport: Transport, base: &Path) -> Result<ReceiverConfig, ConfigError> {
    let mut port = transport.default_port();
    let mut address = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    let mut keystore = None;
    let mut truststore = None;
    let mut verify_client = VerifyClient::None;
    let mut protocols = vec![TlsVersion::Tls12, TlsVersion::Tls13];
    let mut ciphers = None;
    let mut verify_depth = 5;
    let mut crl_files = Vec::new();
    let mut crl_soft_fail = false;
    let mut revocation_origin = None;
    let mut forwarded_header: Option<(String, Origin)> = None;
    let mut trusted_proxies = Vec::new();
    let mut http = HttpLimits::default();
    for p in parameters(el) {
        if http.set(p)? {
            continue;
        }
        let name = p.required_attr("name")?;
        match (name, transport) {
            ("port", _) => {
                port = value(p)?.parse().map_err(|_| p.error(format!("port must be a number from 0 to 65535, not '{}'", value(p).unwrap_or_default())))?
            }
            ("bind-address", _) => {
                let v = value(p)?;
                address = v.parse().map_err(|_| p.error(format!("bind-address must be an IP address, not '{v}'")))?
            }
            ("keystore", Transport::Https) => keystore = Some(key_store(p, base)?),
            ("truststore", _) => truststore = Some(trust_store(p, base)?),
            ("ClientCertificateHeader", _) => {
                let v = value(p)?;
                if actix_web::http::header::HeaderName::from_bytes(v.as_bytes()).is_err() {
                    return Err(p.error(format!("'{v}' is not an HTTP header name")));
                }
                forwarded_header = Some((v.to_ascii_lowercase(), p.origin.clone()));
            }
            ("TrustedProxies", _) => {
                for part in value(p)?.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()) {
                    trusted_proxies.push(crate::security::forwarded::Cidr::parse(part).ok_or_else(|| p.error(format!("'{part}' is not an IP address or CIDR block")))?);
                }
            }
            ("SSLVerifyClient", Transport::Https) => {
                verify_client = match value(p)?.to_ascii_lowercase().as_str() {
                    "none" => VerifyClient::None,
                    "optional" => VerifyClient::Optional,
                    "require" => VerifyClient::Require,
                    other => return Err(p.error(format!("SSLVerifyClient must be none, optional or require, not '{other}'"))),
                }
            }
            ("HttpsProtocols", Transport::Https) => protocols = tls_versions(p)?,
            ("PreferredCiphers", Transport::Https) => {
                let list: Vec<String> = value(p)?.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
                if list.is_empty() {
                    return Err(p.error("PreferredCiphers is empty"));
                }
                ciphers = Some(list);
            }
            ("SSLVerifyDepth", _) => {
                let v = value(p)?;
                // OpenSSL's own ceiling; anything near it is a typo, not a PKI.
                verify_depth = v.parse().ok().filter(|d| *d <= 100).ok_or_else(|| p.error(format!("SSLVerifyDepth must be a number from 0 to 100, not '{v}'")))?;
            }
            ("CertificateRevocationVerifier", _) => {
                let enable = p.attr("enable").map(|v| expand_env(p, v)).transpose()?;
                let enabled = match enable.as_deref().map(str::trim).map(str::to_ascii_lowercase).as_deref() {
                    None | Some("true") => true,
                    Some("false") => false,
                    Some(other) => return Err(p.error(format!("CertificateRevocationVerifier enable must be true or false, not '{other}'"))),
                };
                crl_files = Vec::new();
                crl_soft_fail = false;
                revocation_origin = None;
                if enabled {
                    for c in p.elements() {
                        match c.name.as_str() {
                            "CRLFile" => {
                                let path = expand_env(c, &c.text())?;
                                if path.is_empty() {
                                    return Err(c.error("<CRLFile> is empty; it names a CRL file (PEM or DER)"));
                                }
                                crl_files.push((resolve(base, &path), c.origin.clone()));
                            }
                            "SoftFail" => {
                                crl_soft_fail = match expand_env(c, &c.text())?.to_ascii_lowercase().as_str() {
                                    "true" => true,
                                    "false" => false,
                                    other => return Err(c.error(format!("<SoftFail> must be true or false, not '{other}'"))),
                                }
                            }
                            // WSO2's verifier fetches CRLs and OCSP answers online and caches them.
                            other => log::warn!("{}: <{other}> of CertificateRevocationVerifier is not supported (only <CRLFile> and <SoftFail>); ignored", c.origin),
                        }
                    }
                    // An enabled verifier that checks nothing would look like protection.
                    if crl_files.is_empty() {
                        return Err(p.error("CertificateRevocationVerifier needs at least one <CRLFile>; fetching CRLs or OCSP answers online is not supported"));
                    }
                    revocation_origin = Some(p.origin.clone());
                }
            }
            _ => warn_unknown_parameter(p, &format!("{} transportReceiver", transport.name())),
        }
    }
    if let (Some(origin), None) = (&revocation_origin, &truststore) {
        return Err(origin.error("CertificateRevocationVerifier needs a 'truststore' parameter: CRLs are checked along the chain to its CAs"));
    }
    let forwarded = match forwarded_header {
        Some((header, origin)) => {
            if truststore.is_none() {
                return Err(origin.error("ClientCertificateHeader needs a 'truststore' parameter: forwarded certificates are verified like TLS ones"));
            }
            if trusted_proxies.is_empty() {
                return Err(origin.error("ClientCertificateHeader needs TrustedProxies: the addresses of the load balancers whose header is believed"));
            }
            Some(ForwardedCertificate { header, trusted: trusted_proxies, origin })
        }
        None => None,
    };
    let tls = match transport {
        Transport::Http => None,
        Transport::Https => {
            let keystore = keystore.ok_or_else(|| el.error("the https transportReceiver needs a 'keystore' parameter"))?;
            if verify_client != VerifyClient::None && truststore.is_none() {
                return Err(el.error("SSLVerifyClient optional/require needs a 'truststore' parameter to verify client certificates"));
            }
            Some(ServerTlsConfig { keystore, verify_client, protocols, ciphers, origin: el.origin.clone() })
        }
    };
    let clients = ClientVerification { truststore, verify_depth, crl_files, crl_soft_fail, origin: el.origin.clone() };
    Ok(ReceiverConfig { transport, bind: SocketAddr::new(address, port), tls, clients, forwarded, http, origin: el.origin.clone() })
}

fn sender(el: &Element, base: &Path, pool: &mut SenderPool) -> Result<SenderTlsConfig, ConfigError> {
    let mut tls = SenderTlsConfig::defaults(el.origin.clone());
    for p in parameters(el) {
        if pool.set(p)? {
            continue;
        }
        match p.required_attr("name")? {
            "customSSLProfiles" => {
                for profile in p.elements() {
                    if profile.name != "profile" {
                        return Err(profile.error(format!("customSSLProfiles holds <profile> elements, not <{}>", profile.name)));
                    }
                    tls.profiles.push(ssl_profile(profile, base)?);
                }
            }
            "keystore" => tls.keystore = Some(key_store(p, base)?),
            "truststore" => tls.truststore = Some(trust_store(p, base)?),
            "HostnameVerifier" => {
                tls.hostname_verifier = match value(p)?.as_str() {
                    "Strict" => HostnameVerifier::Strict,
                    "AllowAll" => HostnameVerifier::AllowAll,
                    "DefaultAndLocalhost" => HostnameVerifier::DefaultAndLocalhost,
                    other => return Err(p.error(format!("HostnameVerifier must be Strict, AllowAll or DefaultAndLocalhost, not '{other}'"))),
                }
            }
            _ => warn_unknown_parameter(p, "https transportSender"),
        }
    }
    Ok(tls)
}

fn ssl_profile(el: &Element, base: &Path) -> Result<SslProfile, ConfigError> {
    let servers_el = el.child("servers").ok_or_else(|| el.error("a <profile> needs <servers>host:port,…</servers>"))?;
    let mut servers = Vec::new();
    for s in expand_env(servers_el, &servers_el.text())?.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (host, port) = s.rsplit_once(':').ok_or_else(|| servers_el.error(format!("'{s}' is not host:port")))?;
        let port = port.parse().map_err(|_| servers_el.error(format!("'{s}' is not host:port")))?;
        servers.push((host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase(), port));
    }
    if servers.is_empty() {
        return Err(servers_el.error("<servers> lists no host:port"));
    }
    // The store blocks sit directly in the profile.
    let keystore = el.child("KeyStore").map(|_| key_store(el, base)).transpose()?;
    let truststore = el.child("TrustStore").map(|_| trust_store(el, base)).transpose()?;
    Ok(SslProfile { servers, keystore, truststore, origin: el.origin.clone() })
}

fn parameters(el: &Element) -> impl Iterator<Item = &Element> {
    el.elements().filter(|c| c.name == "parameter")
}

fn warn_unknown_parameter(p: &Element, owner: &str) {
    log::warn!("{}: parameter '{}' of the {owner} is not supported; ignored", p.origin, p.attr("name").unwrap_or("?"));
}

/// The parameter's text with `${env:NAME}` references replaced.
fn value(p: &Element) -> Result<String, ConfigError> {
    expand_env(p, &p.text())
}

fn expand_env(el: &Element, raw: &str) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find("${env:") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 6..];
        let end = after.find('}').ok_or_else(|| el.error("unterminated ${env:…} reference"))?;
        let name = &after[..end];
        let v = std::env::var(name).map_err(|_| el.error(format!("environment variable {name} is not set")))?;
        out.push_str(&v);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn tls_versions(p: &Element) -> Result<Vec<TlsVersion>, ConfigError> {
    let mut out = Vec::new();
    for v in value(p)?.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        out.push(match v {
            "TLSv1.2" => TlsVersion::Tls12,
            "TLSv1.3" => TlsVersion::Tls13,
            "SSLv3" | "TLSv1" | "TLSv1.1" => {
                return Err(p.error(format!("{v} is obsolete and insecure; use TLSv1.2 and/or TLSv1.3")));
            }
            other => return Err(p.error(format!("unknown protocol '{other}' (expected TLSv1.2, TLSv1.3)"))),
        });
    }
    if out.is_empty() {
        return Err(p.error("HttpsProtocols lists no protocol"));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The single child block (`<KeyStore>` / `<TrustStore>`) of a store parameter.
fn store_block<'a>(p: &'a Element, name: &str) -> Result<&'a Element, ConfigError> {
    p.child(name).ok_or_else(|| p.error(format!("expected a <{name}> element inside this parameter")))
}

fn store_field(block: &Element, name: &str) -> Result<Option<String>, ConfigError> {
    block.child(name).map(|c| expand_env(c, &c.text())).transpose()
}

fn required_field(block: &Element, name: &str) -> Result<String, ConfigError> {
    match store_field(block, name)? {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(block.error(format!("<{}> needs a <{name}>", block.name))),
    }
}

fn store_type(block: &Element) -> Result<StoreType, ConfigError> {
    match store_field(block, "Type")?.as_deref().map(str::to_ascii_uppercase).as_deref() {
        None | Some("PKCS12") | Some("PFX") => Ok(StoreType::Pkcs12),
        Some("PEM") => Ok(StoreType::Pem),
        Some("JKS") => Ok(StoreType::Jks),
        Some("JCEKS") => Err(block.error("keystore Type JCEKS is not supported; convert it with `keytool -importkeystore -deststoretype PKCS12`")),
        Some(other) => Err(block.error(format!("unknown keystore Type '{other}' (expected PKCS12, JKS or PEM)"))),
    }
}

fn resolve(base: &Path, location: &str) -> PathBuf {
    let p = Path::new(location);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

fn key_store(p: &Element, base: &Path) -> Result<KeyStoreConfig, ConfigError> {
    let block = store_block(p, "KeyStore")?;
    let store_type = store_type(block)?;
    let password = match store_type {
        StoreType::Pkcs12 | StoreType::Jks => required_field(block, "Password")?,
        StoreType::Pem => store_field(block, "Password")?.unwrap_or_default(),
    };
    Ok(KeyStoreConfig {
        location: resolve(base, &required_field(block, "Location")?),
        store_type,
        password: Secret::new(password),
        key_password: store_field(block, "KeyPassword")?.map(Secret::new),
        key_location: store_field(block, "KeyLocation")?.map(|l| resolve(base, &l)),
        origin: block.origin.clone(),
    })
}

fn trust_store(p: &Element, base: &Path) -> Result<TrustStoreConfig, ConfigError> {
    let block = store_block(p, "TrustStore")?;
    let store_type = store_type(block)?;
    Ok(TrustStoreConfig {
        location: resolve(base, &required_field(block, "Location")?),
        store_type,
        password: Secret::new(store_field(block, "Password")?.unwrap_or_default()),
        origin: block.origin.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(s: &str) -> Result<Axis2Config, ConfigErrors> {
        let dir = std::env::temp_dir().join(format!("axis2-test-{}-{}", std::process::id(), fastrand_name()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("axis2.xml");
        std::fs::write(&path, s).unwrap();
        let r = load(&path);
        let _ = std::fs::remove_dir_all(&dir);
        r
    }

    fn fastrand_name() -> u64 {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        N.fetch_add(1, Ordering::Relaxed)
    }

    const HTTPS: &str = r#"<axisconfig name="AxisJava2.0">
  <transportReceiver name="http" class="x"><parameter name="port">0</parameter></transportReceiver>
  <transportReceiver name="https" class="org.apache.synapse.transport.passthru.PassThroughHttpSSLListener">
    <parameter name="port" locked="false">8443</parameter>
    <parameter name="bind-address">127.0.0.1</parameter>
    <parameter name="keystore"><KeyStore><Location>security/server.p12</Location><Type>PKCS12</Type>
      <Password>${env:MEDIATE_TEST_PW}</Password><KeyPassword>pw</KeyPassword></KeyStore></parameter>
    <parameter name="truststore"><TrustStore><Location>/abs/trust.pem</Location><Type>PEM</Type></TrustStore></parameter>
    <parameter name="SSLVerifyClient">require</parameter>
    <parameter name="HttpsProtocols">TLSv1.3</parameter>
    <parameter name="httpGetProcessor">ignored.Class</parameter>
  </transportReceiver>
  <transportSender name="https"><parameter name="HostnameVerifier">AllowAll</parameter></transportSender>
</axisconfig>"#;

    #[test]
    fn reads_receivers_and_stores() {
        std::env::set_var("MEDIATE_TEST_PW", "secret");
        let c = load_str(HTTPS).unwrap();
        let https = c.receiver(Transport::Https).unwrap();
        assert_eq!(https.bind, "127.0.0.1:8443".parse().unwrap());
        let tls = https.tls.as_ref().unwrap();
        assert_eq!(tls.verify_client, VerifyClient::Require);
        assert_eq!(tls.protocols, vec![TlsVersion::Tls13]);
        assert_eq!(tls.keystore.password.expose(), "secret");
        assert!(tls.keystore.location.ends_with("security/server.p12"));
        assert!(tls.keystore.location.is_absolute() || tls.keystore.location.starts_with(std::env::temp_dir()));
        assert_eq!(https.clients.truststore.as_ref().unwrap().location, PathBuf::from("/abs/trust.pem"));
        assert_eq!(c.https_sender.as_ref().unwrap().hostname_verifier, HostnameVerifier::AllowAll);
        assert_eq!(c.receiver(Transport::Http).unwrap().bind.port(), 0);
    }

    #[test]
    fn bad_values_name_the_line() {
        let bad = HTTPS.replace("<parameter name=\"SSLVerifyClient\">require", "<parameter name=\"SSLVerifyClient\">sometimes");
        std::env::set_var("MEDIATE_TEST_PW", "secret");
        let e = load_str(&bad).unwrap_err();
        assert_eq!(e.0.len(), 1, "{e}");
        assert_eq!(e.0[0].origin.pos.line, 9, "{e}");
        assert!(e.0[0].message.contains("sometimes"));

        let e = load_str(&HTTPS.replace("TLSv1.3", "TLSv1.1")).unwrap_err();
        assert!(e.to_string().contains("insecure"), "{e}");
        let e = load_str(&HTTPS.replace(">0<", ">http<")).unwrap_err();
        assert!(e.to_string().contains(":2:"), "{e}");
        let e = load_str(&HTTPS.replace("${env:MEDIATE_TEST_PW}", "${env:MEDIATE_SURELY_UNSET_VAR}")).unwrap_err();
        assert!(e.to_string().contains("MEDIATE_SURELY_UNSET_VAR is not set"), "{e}");
        let e = load_str(&HTTPS.replace("<Type>PKCS12</Type>", "<Type>JCEKS</Type>")).unwrap_err();
        assert!(e.to_string().contains("JCEKS is not supported"), "{e}");
        let jks = load_str(&HTTPS.replace("<Type>PKCS12</Type>", "<Type>jks</Type>")).unwrap();
        assert_eq!(jks.receiver(Transport::Https).unwrap().tls.as_ref().unwrap().keystore.store_type, StoreType::Jks);
    }

    #[test]
    fn verify_client_needs_a_truststore() {
        std::env::set_var("MEDIATE_TEST_PW", "secret");
        let start = HTTPS.find("<parameter name=\"truststore\">").unwrap();
        let end = HTTPS[start..].find("</parameter>").unwrap() + start + "</parameter>".len();
        let mut s = HTTPS.to_string();
        s.replace_range(start..end, "");
        let e = load_str(&s).unwrap_err();
        assert!(e.to_string().contains("truststore"), "{e}");
    }

    #[test]
    fn http_limits_are_read_per_receiver() {
        let xml = |v: &str| format!(r#"<axisconfig><transportReceiver name="http"><parameter name="port">0</parameter><parameter name="MaxHeaderSize">4096</parameter><parameter name="BodyReadTimeout">{v}</parameter></transportReceiver></axisconfig>"#);
        let c = load_str(&xml("1500")).unwrap();
        let http = &c.receiver(Transport::Http).unwrap().http;
        assert_eq!(http.max_header_size, 4096);
        assert_eq!(http.body_read_timeout, std::time::Duration::from_millis(1500));
        assert_eq!(http.max_uri_length, HttpLimits::default().max_uri_length);
        let e = load_str(&xml("soon")).unwrap_err();
        assert!(e.to_string().contains("BodyReadTimeout must be a positive number, not 'soon'"), "{e}");
        assert!(load_str(&xml("0")).is_err(), "a zero timeout would refuse every body");
    }
}
