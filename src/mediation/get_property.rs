//! Synapse's `get-property(...)`: what a mediator sees when it asks for a property.
//!
//! `get-property('name')` looks at the special names first (To, Action, MessageID,
//! MESSAGE_FORMAT, SYSTEM_DATE, …), then the default scope, then local entries (as
//! Synapse's registry lookup does). `get-property('scope', 'name')` reads one scope:
//! `default`, `axis2`, `transport` (HTTP headers), `system` (environment variables) or
//! `registry` (local entries). The client certificate's properties (`SSL_CLIENT_S_DN`, …)
//! read like default-scope ones.

use std::time::{SystemTime, UNIX_EPOCH};

use super::deployment::Deployment;
use crate::message::{MessageContext, MessageFormat, Scope};

/// The value of `get-property(name)` or `get-property(scope, name)`; `None` when unset.
/// `get-property('SYSTEM_DATE', 'pattern')` formats the date with a Java-style pattern.
pub fn get_property(ctx: &MessageContext, deployment: &Deployment, scope: Option<&str>, name: &str) -> Option<String> {
    match scope {
        None => special(ctx, name, None)
            .or_else(|| ctx.property(Scope::Default, name))
            .or_else(|| deployment.local_entries.get(name).map(|e| e.text())),
        Some("default") => ctx.property(Scope::Default, name),
        Some("axis2") | Some("axis2-client") => ctx.property(Scope::Axis2, name),
        Some("transport") => ctx.property(Scope::Transport, name),
        Some("system") => std::env::var(name).ok(),
        Some("registry") => deployment.local_entries.get(name).map(|e| e.text()),
        // `get-property('SYSTEM_DATE', 'pattern')`: the first argument is the name here.
        Some(first) if first == "SYSTEM_DATE" => special(ctx, first, Some(name)),
        Some(_) => None,
    }
}

/// Whether `scope` is one `get-property` understands (checked when configurations load).
pub fn is_known_scope(scope: &str) -> bool {
    matches!(scope, "default" | "axis2" | "axis2-client" | "transport" | "system" | "registry")
}

fn special(ctx: &MessageContext, name: &str, pattern: Option<&str>) -> Option<String> {
    let a = &ctx.addressing;
    match name {
        "To" => ctx.to.clone(),
        "From" => a.from.clone(),
        "Action" => a.action.clone().or_else(|| ctx.soap_action.clone()),
        "FaultTo" => a.fault_to.clone(),
        "ReplyTo" => a.reply_to.clone(),
        "MessageID" => a.message_id.clone(),
        "MESSAGE_FORMAT" => Some(
            match ctx.format {
                MessageFormat::Soap11 => "soap11",
                MessageFormat::Soap12 => "soap12",
                MessageFormat::Pox => "pox",
            }
            .to_string(),
        ),
        // Synapse proxies expose one operation, `mediate`.
        "OperationName" => Some("mediate".to_string()),
        "SYSTEM_DATE" => Some(system_date(now_millis(), pattern)),
        "SYSTEM_TIME" => Some(now_millis().to_string()),
        "SERVER_IP" => ctx.connection.local_addr.map(|a| a.ip().to_string()),
        _ => None,
    }
}

fn now_millis() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}

/// Formats a UTC time. `pattern` understands the common Java letters (`yyyy MM dd HH mm
/// ss SSS`); the default is ISO 8601 with milliseconds.
pub fn system_date(millis: u128, pattern: Option<&str>) -> String {
    let secs = (millis / 1000) as i64;
    let ms = (millis % 1000) as u32;
    let t = crate::utc::UtcTime::from_unix(secs);
    let (y, mo, d, h, mi, s) = (t.year, t.month, t.day, t.hour, t.minute, t.second);
    let pattern = pattern.unwrap_or("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'");
    let mut out = String::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        let replaced = [
            ("yyyy", format!("{y:04}")),
            ("MM", format!("{mo:02}")),
            ("dd", format!("{d:02}")),
            ("HH", format!("{h:02}")),
            ("mm", format!("{mi:02}")),
            ("ss", format!("{s:02}")),
            ("SSS", format!("{ms:03}")),
        ]
        .into_iter()
        .find(|(token, _)| rest.starts_with(token));
        if let Some((token, value)) = replaced {
            out.push_str(&value);
            rest = &rest[token.len()..];
        } else if let Some(quoted) = rest.strip_prefix('\'') {
            let end = quoted.find('\'').unwrap_or(quoted.len());
            out.push_str(&quoted[..end]);
            rest = quoted.get(end + 1..).unwrap_or("");
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(system_date(0, None), "1970-01-01T00:00:00.000Z");
        // 2026-11-25T09:48:01.250Z
        assert_eq!(system_date(1_795_600_081_250, None), "2026-11-25T09:48:01.250Z");
        assert_eq!(system_date(951_782_400_000, Some("dd/MM/yyyy")), "29/02/2000");
        assert_eq!(system_date(1_795_600_081_250, Some("HH:mm 'at' yyyy")), "09:48 at 2026");
    }
}
