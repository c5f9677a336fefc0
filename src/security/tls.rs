//! TLS contexts for both sides: the listener (with client-certificate policy) and the
//! backend client (with its own identity and hostname policy).
//!
//! Defaults follow Mozilla's "intermediate" profile: TLS 1.2 and 1.3 only, AEAD suites only,
//! no renegotiation. Contexts are built once at start-up (and again on each reload) and
//! shared by all workers.

use openssl::error::ErrorStack;
use openssl::hash::{Hasher, MessageDigest};
use openssl::ssl::{
    AlpnError, SslAcceptor, SslAcceptorBuilder, SslConnector, SslContext, SslContextBuilder, SslMethod, SslMode, SslOptions, SslSessionCacheMode, SslRef, SslVerifyMode,
    SslVersion,
};
use openssl::stack::Stack;
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::{X509Name, X509};

use super::client_cert::ClientCertPolicy;
use super::keystore::{first_reason, load_identity, load_trust, Identity};
use crate::config::axis2::{HostnameVerifier, SenderTlsConfig, ServerTlsConfig, TlsVersion, VerifyClient};
use crate::config::error::{ConfigError, Origin};

/// OpenSSL's verification errors for a name mismatch (host, e-mail, IP address).
const NAME_MISMATCH_ERRORS: [i32; 3] = [62, 63, 64];

fn ssl_error(origin: &Origin, what: &str, e: openssl::error::ErrorStack) -> ConfigError {
    origin.error(format!("{what}: {}", first_reason(&e)))
}

/// Sessions a listener keeps for resumption; the oldest go first when it is full. Each
/// holds the client's parsed chain, about 8 KB measured under the soak test, so the cache
/// stays near 32 MB.
const SESSION_CACHE_SIZE: i32 = 4_096;

/// The listener's TLS context for an https receiver.
///
/// `clients` verifies client certificates (built once per receiver: the same policy checks
/// certificates a load balancer forwards).
pub fn server_acceptor(cfg: &ServerTlsConfig, clients: Option<&ClientCertPolicy>) -> Result<ServerTls, ConfigError> {
    let origin = &cfg.origin;
    let identity = load_identity(&cfg.keystore)?;
    let err = |what: &'static str| move |e| ssl_error(origin, what, e);

    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).map_err(err("cannot create a TLS context"))?;
    set_identity(&mut b, &identity).map_err(|e| cfg.keystore.origin.error(format!("cannot use the keystore's key: {}", first_reason(&e))))?;
    let protocols = protocol_range(&cfg.protocols);
    b.set_min_proto_version(protocols.0).map_err(err("cannot set HttpsProtocols"))?;
    b.set_max_proto_version(protocols.1).map_err(err("cannot set HttpsProtocols"))?;
    if let Some(ciphers) = &cfg.ciphers {
        set_ciphers(&mut b, ciphers, origin)?;
    }
    // NO_TICKET: sessions resume from our own cache (TLS 1.3 stateful tickets, TLS 1.2
    // session ids) instead of from tickets the client keeps. Decoding a stateless ticket
    // re-parses the client's certificate, which OpenSSL 3 does slowly: it was 55% of the
    // CPU of a resumed handshake. The cache is bounded and its sessions expire; a handshake
    // issues one ticket, not OpenSSL's default two, so one client holds one cache entry.
    b.set_options(SslOptions::NO_RENEGOTIATION | SslOptions::CIPHER_SERVER_PREFERENCE | SslOptions::NO_TICKET);
    b.set_session_cache_mode(SslSessionCacheMode::SERVER);
    b.set_session_cache_size(SESSION_CACHE_SIZE);
    b.set_num_tickets(1).map_err(err("cannot set the number of session tickets"))?;
    // An idle connection hands its TLS record buffers back (17 KB each allocated; measured
    // about 5 KB resident per idle connection saved), which adds up over thousands of
    // keep-alive clients.
    b.set_mode(SslMode::RELEASE_BUFFERS);
    // actix-web installs the same choice on the first context; reloaded ones need their own.
    b.set_alpn_select_callback(|_, offered| match offered.windows(9).any(|w| w == b"\x08http/1.1") {
        true => Ok(b"http/1.1"),
        false => Err(AlpnError::NOACK),
    });

    let mode = match cfg.verify_client {
        VerifyClient::None => SslVerifyMode::NONE,
        VerifyClient::Optional => SslVerifyMode::PEER,
        VerifyClient::Require => SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT,
    };
    let mut sid = Hasher::new(MessageDigest::sha256()).map_err(err("hash"))?;
    sid.update(format!("{:?}", cfg.verify_client).as_bytes()).map_err(err("hash"))?;
    match clients {
        None => b.set_verify(mode),
        Some(policy) => {
            // The store, depth, CRLs and the verify callback for the checks OpenSSL lacks; the
            // same policy verifies certificates forwarded outside TLS.
            policy.configure_acceptor(&mut b, mode)?;
            sid.update(&policy.session_context()).map_err(err("hash"))?;
            // Sent in CertificateRequest so clients pick a certificate we can verify.
            let mut names = Stack::<X509Name>::new().map_err(err("stack"))?;
            for c in policy.anchors() {
                names.push(c.subject_name().to_owned().map_err(err("name"))?).map_err(err("stack"))?;
                sid.update(&c.to_der().map_err(err("der"))?).map_err(err("hash"))?;
            }
            if cfg.verify_client != VerifyClient::None {
                b.set_client_ca_list(names);
            }
        }
    }
    // Sessions may only resume under the same client-certificate policy and trust anchors;
    // OpenSSL also refuses resumption with client auth when this is unset.
    let sid = sid.finish().map_err(err("hash"))?;
    b.set_session_id_context(&sid[..32]).map_err(err("cannot set the session id context"))?;
    Ok(ServerTls { builder: b, per_connection: ConnectionTls { mode, policy: clients.cloned(), protocols } })
}

/// A listener's TLS context being built, and the settings each connection copies from it.
pub struct ServerTls {
    pub builder: SslAcceptorBuilder,
    pub per_connection: ConnectionTls,
}

/// What OpenSSL copies from a context into each connection as it starts (verify mode and
/// callback, depth, flags, protocol versions). A connection moved to another context keeps
/// the old copies, so they are put on it again.
#[derive(Clone)]
pub struct ConnectionTls {
    mode: SslVerifyMode,
    policy: Option<ClientCertPolicy>,
    protocols: (Option<SslVersion>, Option<SslVersion>),
}

/// The listener's TLS material from a reloaded configuration. Sockets stay bound across a
/// reload, so each new connection starts on the first context and moves to this one while
/// its ClientHello is read, before anything is negotiated.
pub struct ReloadedTls {
    context: SslContext,
    per_connection: ConnectionTls,
}

impl ServerTls {
    pub fn into_reloaded(self) -> ReloadedTls {
        ReloadedTls { context: self.builder.build().into_context(), per_connection: self.per_connection }
    }
}

impl ReloadedTls {
    /// Moves a connection that is reading its ClientHello onto this material: the server
    /// certificate, trust anchors, CRLs and session id context come with the context (so a
    /// session from before the reload does not resume if the policy changed); the rest is
    /// set on the connection.
    pub fn adopt(&self, ssl: &mut SslRef) -> Result<(), ErrorStack> {
        ssl.set_ssl_context(&self.context)?;
        let c = &self.per_connection;
        ssl.set_min_proto_version(c.protocols.0)?;
        ssl.set_max_proto_version(c.protocols.1)?;
        match &c.policy {
            Some(policy) => policy.configure_ssl(ssl, c.mode),
            None => {
                ssl.set_verify(c.mode);
                Ok(())
            }
        }
    }
}

fn set_identity(b: &mut SslContextBuilder, id: &Identity) -> Result<(), openssl::error::ErrorStack> {
    b.set_private_key(&id.key)?;
    b.set_certificate(&id.cert)?;
    for c in &id.chain {
        b.add_extra_chain_cert(c.clone())?;
    }
    b.check_private_key()
}

/// The lowest and highest of `HttpsProtocols`.
fn protocol_range(protocols: &[TlsVersion]) -> (Option<SslVersion>, Option<SslVersion>) {
    let v = |t: TlsVersion| match t {
        TlsVersion::Tls12 => SslVersion::TLS1_2,
        TlsVersion::Tls13 => SslVersion::TLS1_3,
    };
    (protocols.iter().min().copied().map(v), protocols.iter().max().copied().map(v))
}

/// Applies `PreferredCiphers`. Java users write IANA names (`TLS_ECDHE_RSA_WITH_…`), OpenSSL
/// users write OpenSSL names; both work. TLS 1.3 suites are configured separately by OpenSSL.
fn set_ciphers(b: &mut SslContextBuilder, names: &[String], origin: &Origin) -> Result<(), ConfigError> {
    const TLS13: [&str; 5] =
        ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"];
    let mut tls12 = Vec::new();
    let mut tls13 = Vec::new();
    for n in names {
        if TLS13.contains(&n.as_str()) {
            tls13.push(n.as_str());
        } else if n.starts_with("TLS_") {
            match openssl::ssl::cipher_name(n) {
                "(NONE)" => return Err(origin.error(format!("unknown cipher suite '{n}' in PreferredCiphers"))),
                o => tls12.push(o),
            }
        } else {
            tls12.push(n.as_str());
        }
    }
    for weak in ["NULL", "EXP", "RC4", "DES-CBC3", "3DES", "MD5", "aNULL", "eNULL"] {
        if let Some(bad) = tls12.iter().find(|c| c.contains(weak)) {
            return Err(origin.error(format!("cipher '{bad}' in PreferredCiphers is insecure")));
        }
    }
    if !tls12.is_empty() {
        b.set_cipher_list(&tls12.join(":")).map_err(|e| origin.error(format!("PreferredCiphers: {}", first_reason(&e))))?;
    }
    if !tls13.is_empty() {
        b.set_ciphersuites(&tls13.join(":")).map_err(|e| origin.error(format!("PreferredCiphers: {}", first_reason(&e))))?;
    }
    Ok(())
}

fn trust_store(certs: &[X509]) -> Result<X509Store, openssl::error::ErrorStack> {
    let mut store = X509StoreBuilder::new()?;
    for c in certs {
        store.add_cert(c.clone())?;
    }
    Ok(store.build())
}

/// The connectors for one set of stores: one that checks names, and with
/// `DefaultAndLocalhost` one for localhost backends that does not.
#[derive(Clone)]
pub struct Connectors {
    pub connector: SslConnector,
    pub localhost: Option<SslConnector>,
}

/// TLS connectors for backend calls: the https sender's, and one per `customSSLProfiles`
/// profile with the `host:port`s it serves.
#[derive(Clone)]
pub struct BackendTls {
    pub default: Connectors,
    pub profiles: Vec<(Vec<(String, u16)>, Connectors)>,
}

/// Builds the backend connectors from the https transportSender (or the defaults: the
/// system's CAs, strict hostname checks, no client certificate). A profile's own stores
/// replace the sender's; what it leaves out it takes from the sender.
pub fn backend_tls(cfg: Option<&SenderTlsConfig>, origin: &Origin) -> Result<BackendTls, ConfigError> {
    let identity = cfg.and_then(|c| c.keystore.as_ref()).map(load_identity).transpose()?;
    let trust = cfg.and_then(|c| c.truststore.as_ref()).map(load_trust).transpose()?;
    let verifier = cfg.map(|c| c.hostname_verifier).unwrap_or(HostnameVerifier::Strict);
    let default = connectors(identity.as_ref(), trust.as_deref(), verifier, origin)?;
    let mut profiles = Vec::new();
    for p in cfg.map(|c| c.profiles.as_slice()).unwrap_or_default() {
        let p_identity = p.keystore.as_ref().map(load_identity).transpose()?;
        let p_trust = p.truststore.as_ref().map(load_trust).transpose()?;
        let c = connectors(p_identity.as_ref().or(identity.as_ref()), p_trust.as_deref().or(trust.as_deref()), verifier, &p.origin)?;
        profiles.push((p.servers.clone(), c));
    }
    Ok(BackendTls { default, profiles })
}

fn connectors(identity: Option<&Identity>, trust: Option<&[X509]>, verifier: HostnameVerifier, origin: &Origin) -> Result<Connectors, ConfigError> {
    let build = |check_names: bool| -> Result<SslConnector, ConfigError> {
        let err = |e| ssl_error(origin, "cannot create the backend TLS context", e);
        let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(err)?;
        b.set_min_proto_version(Some(SslVersion::TLS1_2)).map_err(err)?;
        if let Some(id) = identity {
            set_identity(&mut b, id).map_err(err)?;
        }
        if let Some(trust) = trust {
            // Only the configured anchors, as Synapse does with its truststore.
            b.set_cert_store(trust_store(trust).map_err(err)?);
        }
        if check_names {
            b.set_verify(SslVerifyMode::PEER);
        } else {
            b.set_verify_callback(SslVerifyMode::PEER, |ok, ctx| ok || NAME_MISMATCH_ERRORS.contains(&ctx.error().as_raw()));
        }
        Ok(b.build())
    };
    Ok(match verifier {
        HostnameVerifier::Strict => Connectors { connector: build(true)?, localhost: None },
        HostnameVerifier::AllowAll => Connectors { connector: build(false)?, localhost: None },
        HostnameVerifier::DefaultAndLocalhost => Connectors { connector: build(true)?, localhost: Some(build(false)?) },
    })
}
