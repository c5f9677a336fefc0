//! Quality of service of a leaf endpoint, exactly as Synapse defines it: a timeout, and a
//! health state machine that takes a failing backend out of rotation and brings it back.
//!
//! States: **Active**; **Timeout** (after an error listed in `markForSuspension`, 101504 and
//! 101505 by default: still used after `retryDelay`, and `retriesBeforeSuspension` more
//! failures are allowed); **Suspended** (after any other error, or too many timeouts: not
//! used for `initialDuration`, then `× progressionFactor` per renewed failure, capped at
//! `maximumDuration`); **Switched off** (only by an operator). A success makes it Active.
//! A suspended endpoint fails fast (303001) without connecting.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::codes;
use crate::config::error::ConfigError;
use crate::config::xml::Element;

/// What a timeout does to the message (`<timeout><responseAction>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseAction {
    /// The fault sequence handles it (Synapse's default).
    Fault,
    /// No fault sequence: the client gets the timeout fault directly.
    Discard,
}

/// An error-code list: `None` = the default set, `Some(empty)` = none (`-1`).
type Codes = Option<Vec<u32>>;

/// The QoS settings of one endpoint definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Qos {
    pub timeout: Duration,
    pub response_action: ResponseAction,
    mark_codes: Codes,
    retries_before_suspension: u32,
    retry_delay: Duration,
    suspend_codes: Codes,
    initial_duration: Duration,
    progression_factor: f64,
    maximum_duration: Duration,
}

impl Default for Qos {
    fn default() -> Self {
        Qos {
            timeout: super::DEFAULT_TIMEOUT,
            response_action: ResponseAction::Fault,
            mark_codes: None,
            retries_before_suspension: 0,
            retry_delay: Duration::ZERO,
            suspend_codes: None,
            initial_duration: Duration::from_secs(30),
            progression_factor: 1.0,
            maximum_duration: Duration::MAX,
        }
    }
}

impl Qos {
    /// Defaults, but no error ever suspends: for destinations that differ per message
    /// (the implicit `To`), where one dead address must not stop the others.
    pub fn never_suspend() -> Qos {
        Qos { mark_codes: Some(Vec::new()), suspend_codes: Some(Vec::new()), ..Qos::default() }
    }
}

/// Errors that put an endpoint in Timeout when `markForSuspension` names none.
const DEFAULT_MARK_CODES: [u32; 2] = [codes::TIMEOUT, codes::CONNECTION_CLOSED];

impl Qos {
    /// Reads the QoS children of an `<address>`, `<http>` or `<default>` element;
    /// anything else there is reported as not supported.
    pub fn parse(el: &Element) -> Result<Qos, ConfigError> {
        let mut q = Qos::default();
        for c in el.elements() {
            match c.name.as_str() {
                "timeout" => {
                    for t in c.elements() {
                        match t.name.as_str() {
                            "duration" => q.timeout = millis(t, false)?,
                            "responseAction" | "action" => {
                                q.response_action = match t.text().as_str() {
                                    "fault" => ResponseAction::Fault,
                                    "discard" => ResponseAction::Discard,
                                    other => return Err(t.error(format!("responseAction must be fault or discard, not '{other}'"))),
                                }
                            }
                            other => return Err(t.error(format!("<timeout> does not take <{other}>"))),
                        }
                    }
                }
                "markForSuspension" => {
                    for m in c.elements() {
                        match m.name.as_str() {
                            "errorCodes" => q.mark_codes = Some(code_list(m)?),
                            "retriesBeforeSuspension" => q.retries_before_suspension = number(m)?,
                            "retryDelay" => q.retry_delay = millis(m, true)?,
                            other => return Err(m.error(format!("<markForSuspension> does not take <{other}>"))),
                        }
                    }
                }
                "suspendOnFailure" => {
                    for s in c.elements() {
                        match s.name.as_str() {
                            "errorCodes" => q.suspend_codes = Some(code_list(s)?),
                            "initialDuration" => q.initial_duration = millis(s, true)?,
                            "progressionFactor" => {
                                let v: f64 = s.text().parse().map_err(|_| s.error(format!("progressionFactor must be a number, not '{}'", s.text())))?;
                                if !(v.is_finite() && v >= 1.0) {
                                    return Err(s.error("progressionFactor must be 1 or more"));
                                }
                                q.progression_factor = v;
                            }
                            "maximumDuration" => q.maximum_duration = millis(s, true)?,
                            other => return Err(s.error(format!("<suspendOnFailure> does not take <{other}>"))),
                        }
                    }
                }
                // Synapse 1.x: seconds of suspension after a failure.
                "suspendDurationOnFailure" => {
                    let secs: u64 = number(c)?.into();
                    q.initial_duration = Duration::from_secs(secs);
                }
                // Accepted for Synapse compatibility; what they configure is listed where
                // they are used (addressing in address endpoints).
                "enableAddressing" | "description" | "property" | "parameter" => {}
                "enableSec" | "enableRM" => return Err(c.error(format!("<{}> (WS-Security / WS-RM) is not supported", c.name))),
                other => return Err(c.error(format!("<{other}> is not a known endpoint setting"))),
            }
        }
        if q.maximum_duration < q.initial_duration {
            q.maximum_duration = q.initial_duration;
        }
        Ok(q)
    }

    fn marks(&self, code: u32) -> bool {
        match &self.mark_codes {
            Some(list) => list.contains(&code),
            None => DEFAULT_MARK_CODES.contains(&code),
        }
    }

    fn suspends(&self, code: u32) -> bool {
        match &self.suspend_codes {
            Some(list) => list.contains(&code),
            None => !self.marks(code),
        }
    }
}

fn number(el: &Element) -> Result<u32, ConfigError> {
    el.text().trim().parse().map_err(|_| el.error(format!("<{}> must be a whole number, not '{}'", el.name, el.text())))
}

fn millis(el: &Element, zero_ok: bool) -> Result<Duration, ConfigError> {
    let ms: u64 = el.text().trim().parse().map_err(|_| el.error(format!("<{}> must be milliseconds, not '{}'", el.name, el.text())))?;
    if ms == 0 && !zero_ok {
        return Err(el.error(format!("<{}> must be more than 0 ms", el.name)));
    }
    Ok(Duration::from_millis(ms))
}

/// `101503, 101504` or `-1` (none).
fn code_list(el: &Element) -> Result<Vec<u32>, ConfigError> {
    let mut out = Vec::new();
    for part in el.text().split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if part == "-1" {
            return Ok(Vec::new());
        }
        out.push(part.parse().map_err(|_| el.error(format!("'{part}' is not an error code")))?);
    }
    Ok(out)
}

/// The state an endpoint is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Active,
    Timeout,
    Suspended,
    SwitchedOff,
}

#[derive(Debug)]
struct Inner {
    state: State,
    /// Timeout state: failures still allowed before suspension.
    retries_left: u32,
    /// Not to be used before this instant (Timeout's retry delay, Suspended's duration).
    not_before: Option<Instant>,
    /// The length of the current (or last) suspension.
    suspension: Duration,
}

/// The health of one endpoint, shared by all workers.
#[derive(Debug)]
pub struct Health {
    name: String,
    inner: Mutex<Inner>,
}

impl Health {
    pub fn new(name: String) -> Self {
        Health { name, inner: Mutex::new(Inner { state: State::Active, retries_left: 0, not_before: None, suspension: Duration::ZERO }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock leaves plain data behind; keep using it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn state(&self) -> State {
        self.lock().state
    }

    /// Whether a message may be sent now.
    pub fn ready(&self, now: Instant) -> bool {
        let s = self.lock();
        match s.state {
            State::Active => true,
            State::SwitchedOff => false,
            State::Timeout | State::Suspended => s.not_before.is_none_or(|t| now >= t),
        }
    }

    /// How long until a suspended endpoint may be tried again (for error messages).
    pub fn remaining(&self, now: Instant) -> Option<Duration> {
        self.lock().not_before.map(|t| t.saturating_duration_since(now))
    }

    pub fn on_success(&self) {
        let mut s = self.lock();
        if s.state != State::Active && s.state != State::SwitchedOff {
            log::info!("endpoint {}: {:?} → Active", self.name, s.state);
            *s = Inner { state: State::Active, retries_left: 0, not_before: None, suspension: Duration::ZERO };
        }
    }

    /// Records a failed delivery with Synapse error `code`.
    pub fn on_failure(&self, code: u32, qos: &Qos, now: Instant) {
        let mut s = self.lock();
        if s.state == State::SwitchedOff {
            return;
        }
        let before = s.state;
        if qos.marks(code) {
            match s.state {
                State::Active => {
                    s.state = State::Timeout;
                    s.retries_left = qos.retries_before_suspension;
                    s.not_before = Some(now + qos.retry_delay);
                }
                State::Timeout if s.retries_left > 0 => {
                    s.retries_left -= 1;
                    s.not_before = Some(now + qos.retry_delay);
                }
                _ => suspend(&mut s, qos, now),
            }
        } else if qos.suspends(code) {
            suspend(&mut s, qos, now);
        } else {
            return;
        }
        match s.state {
            State::Suspended => log::warn!(
                "endpoint {}: {before:?} → Suspended for {} ms (error {code})",
                self.name,
                s.suspension.as_millis()
            ),
            state => log::warn!("endpoint {}: {before:?} → {state:?} (error {code}, {} more failures before suspension)", self.name, s.retries_left),
        }
    }

    /// An operator's switch (kept for the management API to come).
    pub fn switch_off(&self) {
        self.lock().state = State::SwitchedOff;
        log::warn!("endpoint {}: switched off", self.name);
    }
}

fn suspend(s: &mut Inner, qos: &Qos, now: Instant) {
    let next = if s.state == State::Suspended && !s.suspension.is_zero() {
        s.suspension.mul_f64(qos.progression_factor).min(qos.maximum_duration)
    } else {
        qos.initial_duration.min(qos.maximum_duration)
    };
    s.state = State::Suspended;
    s.suspension = next;
    s.not_before = now.checked_add(next);
    s.retries_left = 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qos(xml: &str) -> Qos {
        let el = crate::config::xml::parse_bytes(std::path::Path::new("t"), xml.as_bytes()).unwrap();
        Qos::parse(&el).unwrap()
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn connection_errors_suspend_with_progression_and_a_cap() {
        let q = qos("<address><suspendOnFailure><initialDuration>100</initialDuration><progressionFactor>2</progressionFactor><maximumDuration>300</maximumDuration></suspendOnFailure></address>");
        let h = Health::new("e".into());
        let t0 = Instant::now();
        h.on_failure(101503, &q, t0);
        assert_eq!(h.state(), State::Suspended);
        assert!(!h.ready(t0 + 99 * MS) && h.ready(t0 + 100 * MS));
        // the trial fails: twice as long
        let t1 = t0 + 100 * MS;
        h.on_failure(101503, &q, t1);
        assert!(!h.ready(t1 + 199 * MS) && h.ready(t1 + 200 * MS));
        // and again: capped at 300
        let t2 = t1 + 200 * MS;
        h.on_failure(101503, &q, t2);
        assert!(!h.ready(t2 + 299 * MS) && h.ready(t2 + 300 * MS));
        h.on_success();
        assert_eq!(h.state(), State::Active);
        // after recovery the next suspension starts from the initial duration again
        h.on_failure(101503, &q, t2);
        assert!(h.ready(t2 + 100 * MS));
    }

    #[test]
    fn timeouts_go_to_timeout_first_then_suspend() {
        let q = qos("<address><markForSuspension><retriesBeforeSuspension>1</retriesBeforeSuspension><retryDelay>50</retryDelay></markForSuspension></address>");
        let h = Health::new("e".into());
        let t0 = Instant::now();
        h.on_failure(101504, &q, t0);
        assert_eq!(h.state(), State::Timeout);
        assert!(!h.ready(t0 + 49 * MS) && h.ready(t0 + 50 * MS));
        h.on_failure(101504, &q, t0 + 50 * MS);
        assert_eq!(h.state(), State::Timeout, "one more failure was allowed");
        h.on_failure(101505, &q, t0 + 100 * MS);
        assert_eq!(h.state(), State::Suspended);
        assert!(!h.ready(t0 + 100 * MS + Duration::from_secs(29)), "default initialDuration is 30 s");

        let defaults = Qos::default();
        let h = Health::new("d".into());
        h.on_failure(101504, &defaults, t0);
        assert_eq!(h.state(), State::Timeout, "with the defaults a first timeout is not a suspension");
        h.on_failure(101504, &defaults, t0);
        assert_eq!(h.state(), State::Suspended);
    }

    #[test]
    fn error_code_lists_choose_what_counts() {
        let q = qos("<address><suspendOnFailure><errorCodes>101503</errorCodes></suspendOnFailure><markForSuspension><errorCodes>-1</errorCodes></markForSuspension></address>");
        let h = Health::new("e".into());
        let now = Instant::now();
        h.on_failure(101504, &q, now);
        assert_eq!(h.state(), State::Active, "101504 is in neither list");
        h.on_failure(101503, &q, now);
        assert_eq!(h.state(), State::Suspended);
        let legacy = qos("<address><suspendDurationOnFailure>60</suspendDurationOnFailure></address>");
        let h = Health::new("l".into());
        h.on_failure(101503, &legacy, now);
        assert!(!h.ready(now + Duration::from_secs(59)) && h.ready(now + Duration::from_secs(60)));
        h.switch_off();
        h.on_success();
        assert!(!h.ready(now + Duration::from_secs(600)));
    }

    #[test]
    fn bad_settings_name_their_element() {
        let el = crate::config::xml::parse_bytes(std::path::Path::new("t"), b"<address>\n<timeout><responseAction>retry</responseAction></timeout></address>").unwrap();
        assert!(Qos::parse(&el).unwrap_err().to_string().contains("t:2:10: responseAction must be fault or discard"));
        let el = crate::config::xml::parse_bytes(std::path::Path::new("t"), b"<address><suspendOnFailure><errorCodes>10x</errorCodes></suspendOnFailure></address>").unwrap();
        assert!(Qos::parse(&el).is_err());
    }
}
