//! Endpoint groups: `<failover>`, `<loadbalance>` and `<recipientlist>`.
//!
//! A group reads the message into memory first, so that each member it tries gets the same
//! request (method, headers, format and body). A member that is not ready is skipped
//! without a connection; a member that fails hands the message to the next one (logged as
//! 304100 for failover, 303100 for load balancing). When no member can take the message
//! the group fails with 303000.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::http::header::HeaderMap;
use actix_web::http::Method;
use async_trait::async_trait;
use bytes::Bytes;

use super::session::Sessions;
use super::{codes, BackendResponse, Delivery, Endpoint, EndpointError};
use crate::config::error::ConfigError;
use crate::config::synapse::Builder;
use crate::config::xml::Element;
use crate::message::{Body, MessageContext, MessageFormat};

/// The request as it was before the first attempt, restored before each further one.
struct Snapshot {
    method: Method,
    headers: HeaderMap,
    format: MessageFormat,
    body: Bytes,
}

impl Snapshot {
    async fn take(ctx: &mut MessageContext, d: &Delivery<'_>) -> Result<Snapshot, EndpointError> {
        // A body that cannot be read (too large, the client stalled) is the client's fault.
        let body = ctx.buffered_body(d.limits.max_body).await.map_err(|e| EndpointError::ClientMessage(Box::new(e)))?;
        Ok(Snapshot { method: ctx.method.clone(), headers: ctx.headers.clone(), format: ctx.format, body })
    }

    fn restore(&self, ctx: &mut MessageContext) {
        ctx.method = self.method.clone();
        ctx.headers = self.headers.clone();
        ctx.format = self.format;
        ctx.body = Body::Bytes(self.body.clone());
    }
}

/// A group member with its load-balancing weight.
type Member = (Arc<dyn Endpoint>, u32);

/// The `<endpoint>` children of a group element, built (or resolved by key).
fn members(el: &Element, b: &mut Builder<'_>) -> Result<Vec<Member>, ConfigError> {
    let mut out = Vec::new();
    for c in el.elements() {
        match c.name.as_str() {
            "endpoint" => out.push((b.endpoint(c)?, weight(c)?)),
            "member" => out.push((Arc::new(super::leaf::Leaf::member(c)?) as Arc<dyn Endpoint>, 1)),
            "description" => {}
            other => return Err(c.error(format!("<{}> holds <endpoint> members, not <{other}>", el.name))),
        }
    }
    if out.is_empty() {
        return Err(el.error(format!("<{}> needs at least one <endpoint>", el.name)));
    }
    Ok(out)
}

/// `<property name="loadbalance.weight" value="n"/>` on a member (1 when absent).
fn weight(member: &Element) -> Result<u32, ConfigError> {
    match member.elements().find(|p| p.name == "property" && p.attr("name") == Some("loadbalance.weight")) {
        Some(p) => {
            let v = p.required_attr("value")?;
            v.parse().ok().filter(|w| *w > 0).ok_or_else(|| p.error(format!("loadbalance.weight must be a positive whole number, not '{v}'")))
        }
        None => Ok(1),
    }
}

/// Tries members in `order` until one answers. `code` is logged for each hand-over.
async fn first_answer(
    group: &str,
    members: &[Member],
    order: impl Iterator<Item = usize>,
    code: u32,
    ctx: &mut MessageContext,
    d: &Delivery<'_>,
    snapshot: &Snapshot,
) -> Result<(usize, BackendResponse), EndpointError> {
    let mut last: Option<EndpointError> = None;
    for i in order {
        let member = &members[i].0;
        if !member.ready() {
            continue;
        }
        if last.is_some() {
            snapshot.restore(ctx);
        }
        match member.send(ctx, d).await {
            Ok(r) => return Ok((i, r)),
            Err(e) if e.backend_failed() => {
                log::warn!("{group}: member {} failed ({e}); trying the next one (error {code})", i + 1);
                last = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    Err(EndpointError::NoneReady { group: group.to_string(), last: last.map(|e| e.to_string()) })
}

/// `<failover [dynamic]>`: the first ready member takes the message; the next one if it
/// fails. With `dynamic="false"` the group stays with the member that last worked instead
/// of returning to the first as soon as it recovers.
#[derive(Debug)]
pub struct Failover {
    name: Option<String>,
    label: String,
    members: Vec<Member>,
    dynamic: bool,
    current: AtomicUsize,
}

impl Failover {
    pub fn build(el: &Element, name: Option<String>, label: String, b: &mut Builder<'_>) -> Result<Failover, ConfigError> {
        let dynamic = el.attr("dynamic").is_none_or(|v| v != "false");
        Ok(Failover { name, label, members: members(el, b)?, dynamic, current: AtomicUsize::new(0) })
    }
}

#[async_trait(?Send)]
impl Endpoint for Failover {
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    fn ready(&self) -> bool {
        self.members.iter().any(|(m, _)| m.ready())
    }

    async fn send(&self, ctx: &mut MessageContext, d: &Delivery<'_>) -> Result<BackendResponse, EndpointError> {
        let snapshot = Snapshot::take(ctx, d).await?;
        let n = self.members.len();
        let start = if self.dynamic { 0 } else { self.current.load(Ordering::Relaxed) % n };
        let (i, r) = first_answer(&self.label, &self.members, (0..n).map(|k| (start + k) % n), codes::FAILOVER_FAILED_OVER, ctx, d, &snapshot).await?;
        self.current.store(i, Ordering::Relaxed);
        Ok(r)
    }
}

#[derive(Debug)]
enum Algorithm {
    RoundRobin(AtomicUsize),
    /// Smooth weighted round robin: the member with the highest running weight goes next.
    Weighted(Mutex<Vec<i64>>),
}

/// `<loadbalance [algorithm] [failover]>`, optionally with session affinity.
#[derive(Debug)]
pub struct LoadBalance {
    name: Option<String>,
    label: String,
    members: Vec<Member>,
    algorithm: Algorithm,
    failover: bool,
    sessions: Option<Sessions>,
}

impl LoadBalance {
    pub fn build(el: &Element, session: Option<&Element>, name: Option<String>, label: String, b: &mut Builder<'_>) -> Result<LoadBalance, ConfigError> {
        let members = members(el, b)?;
        let algorithm = match el.attr("algorithm").unwrap_or("roundRobin") {
            "roundRobin" | "org.apache.synapse.endpoints.algorithms.RoundRobin" => Algorithm::RoundRobin(AtomicUsize::new(0)),
            "weightedRoundRobin" | "weighted" | "org.apache.synapse.endpoints.algorithms.WeightedRoundRobin" => {
                Algorithm::Weighted(Mutex::new(vec![0; members.len()]))
            }
            other => return Err(el.error(format!("algorithm '{other}' is not supported (roundRobin, weightedRoundRobin)"))),
        };
        let failover = el.attr("failover").is_none_or(|v| v != "false");
        let sessions = session.map(Sessions::build).transpose()?;
        Ok(LoadBalance { name, label, members, algorithm, failover, sessions })
    }

    /// The member the algorithm picks next among the ready ones.
    fn pick(&self) -> Option<usize> {
        let n = self.members.len();
        match &self.algorithm {
            Algorithm::RoundRobin(counter) => {
                let start = counter.fetch_add(1, Ordering::Relaxed) % n;
                (0..n).map(|k| (start + k) % n).find(|&i| self.members[i].0.ready())
            }
            Algorithm::Weighted(current) => {
                let mut current = current.lock().unwrap_or_else(|p| p.into_inner());
                let ready: Vec<usize> = (0..n).filter(|&i| self.members[i].0.ready()).collect();
                let total: i64 = ready.iter().map(|&i| i64::from(self.members[i].1)).sum();
                for &i in &ready {
                    current[i] += i64::from(self.members[i].1);
                }
                let best = ready.iter().copied().max_by_key(|&i| (current[i], std::cmp::Reverse(i)))?;
                current[best] -= total;
                Some(best)
            }
        }
    }
}

#[async_trait(?Send)]
impl Endpoint for LoadBalance {
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    fn ready(&self) -> bool {
        self.members.iter().any(|(m, _)| m.ready())
    }

    async fn send(&self, ctx: &mut MessageContext, d: &Delivery<'_>) -> Result<BackendResponse, EndpointError> {
        let keys = match &self.sessions {
            Some(s) => s.keys(ctx, d.limits).await,
            None => Vec::new(),
        };
        let snapshot = Snapshot::take(ctx, d).await?;
        let bound = self.sessions.as_ref().and_then(|s| s.lookup(&keys));
        let first = bound.filter(|&i| self.members[i].0.ready()).or_else(|| self.pick());
        let Some(first) = first else {
            return Err(EndpointError::NoneReady { group: self.label.clone(), last: None });
        };
        let n = self.members.len();
        let tries = if self.failover { n } else { 1 };
        let (i, response) =
            first_answer(&self.label, &self.members, (0..tries).map(|k| (first + k) % n), codes::LOADBALANCE_FAILED_OVER, ctx, d, &snapshot).await?;
        if let Some(s) = &self.sessions {
            s.bind(&keys, &response.headers, i);
        }
        Ok(response)
    }
}

/// `<recipientlist>`: a copy to every member at once. The client gets exactly one answer:
/// the first successful one in member order; the others are read and dropped.
#[derive(Debug)]
pub struct RecipientList {
    name: Option<String>,
    label: String,
    members: Vec<Member>,
}

impl RecipientList {
    pub fn build(el: &Element, name: Option<String>, label: String, b: &mut Builder<'_>) -> Result<RecipientList, ConfigError> {
        Ok(RecipientList { name, label, members: members(el, b)? })
    }
}

#[async_trait(?Send)]
impl Endpoint for RecipientList {
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    fn ready(&self) -> bool {
        self.members.iter().any(|(m, _)| m.ready())
    }

    async fn send(&self, ctx: &mut MessageContext, d: &Delivery<'_>) -> Result<BackendResponse, EndpointError> {
        let snapshot = Snapshot::take(ctx, d).await?;
        let mut copies: Vec<MessageContext> = self
            .members
            .iter()
            .map(|_| {
                let mut c = ctx.detach();
                snapshot.restore(&mut c);
                c
            })
            .collect();
        let sends = self.members.iter().zip(copies.iter_mut()).map(|((m, _), c)| m.send(c, d));
        let results = futures_util::future::join_all(sends).await;
        let mut answer = None;
        let mut last = None;
        for (i, r) in results.into_iter().enumerate() {
            match r {
                Ok(resp) if answer.is_none() => answer = Some(resp),
                Ok(extra) => {
                    // Read the other answers so their connections go back to the pool.
                    actix_web::rt::spawn(async move {
                        let _ = extra.body.into_bytes(usize::MAX).await;
                    });
                }
                Err(e) => {
                    log::warn!("{}: recipient {} failed: {e}", self.label, i + 1);
                    last = Some(e.to_string());
                }
            }
        }
        answer.ok_or(EndpointError::NoneReady { group: self.label.clone(), last })
    }
}
