//! Printing session counters (`smpp_session::Stats`) for `smpp bench` and `smpp smsc`: a
//! few readable lines, or one JSON object per snapshot.

use serde_json::{json, Map, Value};
use smpp_pdu::{CommandId, CommandStatus};
use smpp_session::stats::{Counters, Histogram};
use smpp_session::Stats;

pub(crate) fn command_name(id: CommandId) -> String {
    id.name()
        .map_or_else(|| format!("0x{:08X}", id.0), str::to_ascii_lowercase)
}

pub(crate) fn status_name(s: CommandStatus) -> String {
    s.name()
        .map_or_else(|| format!("0x{:08X}", s.0), str::to_string)
}

/// `{"submit_sm_resp": {"ESME_ROK": 990, "ESME_RTHROTTLED": 10}, ...}`
fn counters_json(c: &Counters) -> Value {
    let mut by_command = Map::new();
    for e in c.iter() {
        let entry = by_command
            .entry(command_name(e.command_id))
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = entry {
            m.insert(status_name(e.command_status), json!(e.count));
        }
    }
    Value::Object(by_command)
}

/// `submit_sm 1000, submit_sm_resp 1000 (ESME_RTHROTTLED 10)`
fn counters_text(c: &Counters) -> String {
    let mut names: Vec<CommandId> = Vec::new();
    for e in c.iter() {
        if !names.contains(&e.command_id) {
            names.push(e.command_id);
        }
    }
    if names.is_empty() {
        return "nothing".into();
    }
    names
        .iter()
        .map(|&id| {
            let errors: Vec<String> = c
                .iter()
                .filter(|e| e.command_id == id && !e.command_status.is_ok())
                .map(|e| format!("{} {}", status_name(e.command_status), e.count))
                .collect();
            if errors.is_empty() {
                format!("{} {}", command_name(id), c.count(id))
            } else {
                format!(
                    "{} {} ({})",
                    command_name(id),
                    c.count(id),
                    errors.join(", ")
                )
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn ms(d: Option<std::time::Duration>) -> Value {
    d.map_or(Value::Null, |d| {
        json!((d.as_secs_f64() * 1e6).round() / 1e3)
    })
}

fn latency_json(h: &Histogram) -> Value {
    json!({
        "count": h.count(),
        "mean_ms": ms(h.mean()),
        "p50_ms": ms(h.quantile(0.5)),
        "p99_ms": ms(h.quantile(0.99)),
        "max_ms": ms(h.max()),
    })
}

/// The counters as one JSON line (`json`) or as a few lines for people.
pub(crate) fn render(scope: &str, s: &Stats, extra: &[(&str, u64)], json: bool) -> String {
    if json {
        to_json(scope, s, extra)
    } else {
        to_text(scope, s, extra)
    }
}

/// One JSON object: `{"event":"stats","scope":SCOPE,...}` plus `extra` numbers.
fn to_json(scope: &str, s: &Stats, extra: &[(&str, u64)]) -> String {
    let mut v = json!({
        "event": "stats",
        "scope": scope,
        "sent": counters_json(&s.sent),
        "received": counters_json(&s.received),
        "response_timeouts": s.response_timeouts,
        "requests_failed": s.requests_failed,
        "unexpected_responses": s.unexpected_responses,
        "rejected_requests": s.rejected_requests,
        "generic_nacks_sent": s.generic_nacks_sent(),
        "generic_nacks_received": s.generic_nacks_received(),
        "in_flight": s.in_flight,
        "inbound_pending": s.inbound_pending,
        "response_latency": latency_json(&s.response_latency),
    });
    if let Value::Object(m) = &mut v {
        for (k, n) in extra {
            m.insert((*k).to_string(), json!(n));
        }
    }
    v.to_string()
}

/// A few lines for people.
fn to_text(scope: &str, s: &Stats, extra: &[(&str, u64)]) -> String {
    let h = &s.response_latency;
    let d = |d: Option<std::time::Duration>| {
        d.map_or_else(
            || "-".into(),
            |d| format!("{:.3} ms", d.as_secs_f64() * 1e3),
        )
    };
    let mut out = format!(
        "{scope} stats:\n  sent:     {}\n  received: {}\n  timeouts {}, failed {}, unexpected responses {}, \
         refused by the session {}, generic_nack sent {} received {}, in flight {}, \
         inbound pending {}\n  response latency: {} samples, p50 <= {}, p99 <= {}, max {}",
        counters_text(&s.sent),
        counters_text(&s.received),
        s.response_timeouts,
        s.requests_failed,
        s.unexpected_responses,
        s.rejected_requests,
        s.generic_nacks_sent(),
        s.generic_nacks_received(),
        s.in_flight,
        s.inbound_pending,
        h.count(),
        d(h.quantile(0.5)),
        d(h.quantile(0.99)),
        d(h.max()),
    );
    if !extra.is_empty() {
        let parts: Vec<String> = extra.iter().map(|(k, n)| format!("{k} {n}")).collect();
        out.push_str(&format!("\n  {}", parts.join(", ")));
    }
    out
}
