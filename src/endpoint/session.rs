//! Session affinity for load balancing (`<session type="http|simpleClientSession">`):
//! messages of one session go to the member that served it first.
//!
//! `http`: a cookie the member set (`Set-Cookie`) is remembered; requests carrying it go
//! back to that member. `simpleClientSession`: the client names its session in a SOAP
//! header `<syn:ClientID xmlns:syn="http://ws.apache.org/ns/synapse">`. Sessions expire
//! after `<sessionTimeout>` ms without use (10 minutes by default); at most
//! [`MAX_SESSIONS`] are remembered.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::header::{HeaderMap, COOKIE, SET_COOKIE};

use crate::config::error::ConfigError;
use crate::config::xml::Element;
use crate::message::{Limits, MessageContext};
use crate::xml::soap;

pub const MAX_SESSIONS: usize = 100_000;
const SYNAPSE_NS: &str = "http://ws.apache.org/ns/synapse";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Http,
    ClientId,
}

#[derive(Debug)]
pub struct Sessions {
    kind: Kind,
    timeout: Duration,
    members: Mutex<HashMap<String, (usize, Instant)>>,
}

impl Sessions {
    pub fn build(el: &Element) -> Result<Sessions, ConfigError> {
        let kind = match el.required_attr("type")? {
            "http" => Kind::Http,
            "simpleClientSession" => Kind::ClientId,
            other => return Err(el.error(format!("session type '{other}' is not supported (http, simpleClientSession)"))),
        };
        let timeout = match el.child("sessionTimeout") {
            Some(t) => Duration::from_millis(t.text().parse().map_err(|_| t.error(format!("sessionTimeout must be milliseconds, not '{}'", t.text())))?),
            None => Duration::from_secs(600),
        };
        Ok(Sessions { kind, timeout, members: Mutex::new(HashMap::new()) })
    }

    /// The session keys a request carries.
    pub async fn keys(&self, ctx: &mut MessageContext, limits: &Limits) -> Vec<String> {
        match self.kind {
            Kind::Http => ctx
                .headers
                .get_all(COOKIE)
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(';'))
                .map(|c| c.trim().to_string())
                .filter(|c| c.contains('='))
                .collect(),
            Kind::ClientId => {
                if ctx.ensure_document(limits).await.is_err() {
                    return Vec::new();
                }
                let Some(doc) = ctx.document() else { return Vec::new() };
                let header = soap::envelope(doc).and_then(|e| e.header);
                header
                    .and_then(|h| doc.child_element(h, Some(SYNAPSE_NS), "ClientID"))
                    .map(|id| vec![format!("client:{}", doc.string_value(id).trim())])
                    .unwrap_or_default()
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (usize, Instant)>> {
        self.members.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The member a live session of these keys is bound to.
    pub fn lookup(&self, keys: &[String]) -> Option<usize> {
        let now = Instant::now();
        let mut map = self.lock();
        for k in keys {
            if let Some((member, used)) = map.get_mut(k) {
                if now.duration_since(*used) < self.timeout {
                    *used = now;
                    return Some(*member);
                }
            }
        }
        None
    }

    /// Remembers which member served a session: the request's client ID, or the cookie
    /// the member set.
    pub fn bind(&self, keys: &[String], response: &HeaderMap, member: usize) {
        let new: Vec<String> = match self.kind {
            Kind::ClientId => keys.to_vec(),
            Kind::Http => response
                .get_all(SET_COOKIE)
                .filter_map(|v| v.to_str().ok())
                .filter_map(|v| v.split(';').next())
                .map(|c| c.trim().to_string())
                .filter(|c| c.contains('='))
                .collect(),
        };
        if new.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut map = self.lock();
        if map.len() + new.len() > MAX_SESSIONS {
            map.retain(|_, (_, used)| now.duration_since(*used) < self.timeout);
            if map.len() + new.len() > MAX_SESSIONS {
                log::warn!("session table full ({MAX_SESSIONS}); new sessions are not remembered");
                return;
            }
        }
        for k in new {
            map.insert(k, (member, now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    #[test]
    fn cookies_bind_and_expire() {
        let el = crate::config::xml::parse_bytes(std::path::Path::new("t"), b"<session type=\"http\"><sessionTimeout>50</sessionTimeout></session>").unwrap();
        let s = Sessions::build(&el).unwrap();
        let mut resp = HeaderMap::new();
        resp.insert(SET_COOKIE, HeaderValue::from_static("JSESSIONID=abc; Path=/; HttpOnly"));
        s.bind(&[], &resp, 2);
        assert_eq!(s.lookup(&["other=1".into(), "JSESSIONID=abc".into()]), Some(2));
        assert_eq!(s.lookup(&["JSESSIONID=zzz".into()]), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(s.lookup(&["JSESSIONID=abc".into()]), None, "expired");
        let bad = crate::config::xml::parse_bytes(std::path::Path::new("t"), b"<session type=\"soap\"/>").unwrap();
        assert!(Sessions::build(&bad).is_err());
    }
}
