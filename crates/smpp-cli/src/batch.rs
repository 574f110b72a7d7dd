//! What `send --file` and `--config` add to `send`, `listen` and `bench`: reading a CSV
//! of messages, binding a pool from a configuration file, sending through either a
//! client or a pool, a progress bar, and the closing summary.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use smpp_client::pool::Pool;
use smpp_client::{Client, Error, Inbound, OutgoingText, PoolConfig, Sent, TextOptions};
use smpp_pdu::json::Object;
use smpp_smsc::Smsc;

/// Why a run stopped: a configuration (or input file) error, reported before any bind and
/// exiting 2, or a failure while running, exiting 1.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Exit 2.
    Config(String),
    /// Exit 1.
    Run(String),
}

impl From<String> for Failure {
    fn from(s: String) -> Failure {
        Failure::Run(s)
    }
}

/// One data row of a `--file` CSV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Row {
    /// The file line the row starts on (the header is line 1).
    pub(crate) line: u64,
    pub(crate) to: String,
    pub(crate) text: String,
    pub(crate) from: Option<String>,
    pub(crate) reference: Option<String>,
}

/// A row that cannot be sent: its line and why.
pub(crate) type BadRow = (u64, String);

/// The columns a `--file` CSV may have.
const COLUMNS: [&str; 4] = ["to", "text", "from", "ref"];

/// Reads a CSV of messages: a header row naming `to` and `text` (required) and `from` and
/// `ref` (optional), in any order. A header that names an unknown column, a column twice,
/// or lacks a required one is an error (naming it); a data row that cannot be sent (a
/// wrong number of fields, invalid UTF-8, an empty `to` or `text`) is a [`BadRow`].
pub(crate) fn read_rows(path: &Path) -> Result<(Vec<Row>, Vec<BadRow>), Failure> {
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::Config(format!("--file {}: {e}", path.display())))?;
    read_rows_from(file, &path.display().to_string())
}

fn read_rows_from(
    input: impl std::io::Read,
    name: &str,
) -> Result<(Vec<Row>, Vec<BadRow>), Failure> {
    let config = |msg: String| Failure::Config(format!("--file {name}: {msg}"));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(input);
    let header = reader
        .headers()
        .map_err(|e| config(format!("header row: {e}")))?
        .clone();
    // Column index of to, text, from, ref.
    let mut at: [Option<usize>; 4] = [None; 4];
    for (i, name) in header.iter().enumerate() {
        let name = name.trim_start_matches('\u{feff}').trim();
        let Some(k) = COLUMNS.iter().position(|c| *c == name) else {
            return Err(config(format!(
                "line 1: unknown column `{name}` (the columns are to, text, from, ref)"
            )));
        };
        if at[k].replace(i).is_some() {
            return Err(config(format!("line 1: column `{name}` appears twice")));
        }
    }
    for (k, required) in ["to", "text"].iter().enumerate() {
        if at[k].is_none() {
            return Err(config(format!("line 1: no `{required}` column")));
        }
    }
    let width = header.len();
    let (mut rows, mut bad) = (Vec::new(), Vec::new());
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                if let csv::ErrorKind::Io(io) = e.kind() {
                    return Err(Failure::Run(format!("--file {name}: line {line}: {io}")));
                }
                bad.push((line, format!("malformed CSV: {e}")));
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != width {
            bad.push((
                line,
                format!(
                    "malformed CSV: {} field(s) where the header has {width}",
                    record.len()
                ),
            ));
            continue;
        }
        let mut fields: [Option<String>; 4] = Default::default();
        let mut utf8_error = None;
        for (k, idx) in at.iter().enumerate() {
            let Some(idx) = idx else { continue };
            match std::str::from_utf8(&record[*idx]) {
                Ok(s) => fields[k] = Some(s.to_string()),
                Err(e) => utf8_error = Some(format!("column `{}`: not UTF-8: {e}", COLUMNS[k])),
            }
        }
        if let Some(e) = utf8_error {
            bad.push((line, format!("malformed CSV: {e}")));
            continue;
        }
        let [to, text, from, reference] = fields;
        let (to, text) = (to.unwrap_or_default(), text.unwrap_or_default());
        if to.trim().is_empty() {
            bad.push((line, "destination address: empty".into()));
            continue;
        }
        if text.is_empty() {
            bad.push((line, "text: empty".into()));
            continue;
        }
        rows.push(Row {
            line,
            to: to.trim().to_string(),
            text,
            from: from.filter(|f| !f.is_empty()),
            reference: reference.filter(|r| !r.is_empty()),
        });
    }
    Ok((rows, bad))
}

/// Loads a pool configuration file, checking that some account can submit (`submit`)
/// and some can receive (`receive`). Every error is a [`Failure::Config`].
/// The configuration file to use: `--config`, or with `--smsc` alone $SMPP_CONFIG, else
/// ~/.config/smpp/smpp.toml (under $XDG_CONFIG_HOME when set).
pub(crate) fn config_path(config: Option<&PathBuf>, smsc: Option<&str>) -> Option<PathBuf> {
    if let Some(p) = config {
        return Some(p.clone());
    }
    smsc?;
    if let Some(p) = std::env::var_os("SMPP_CONFIG") {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("smpp").join("smpp.toml"))
}

/// Reads the configuration file (only account `smsc` of it, when given) and checks that
/// some account can submit or receive, as the command needs.
pub(crate) fn load_config(
    path: &Path,
    smsc: Option<&str>,
    submit: bool,
    receive: bool,
) -> Result<PoolConfig, Failure> {
    let mut config = PoolConfig::load(path).map_err(|e| Failure::Config(e.to_string()))?;
    let name = path.display();
    if let Some(wanted) = smsc {
        config.smsc.retain(|a| a.name == wanted);
        if config.smsc.is_empty() {
            return Err(Failure::Config(format!(
                "{name}: no [[smsc]] named {wanted:?}"
            )));
        }
    }
    if submit && !config.smsc.iter().any(|a| a.bind.can_submit()) {
        return Err(Failure::Config(format!(
            "{name}: no account can submit (every bind is \"rx\")"
        )));
    }
    if receive && !config.smsc.iter().any(|a| a.bind.can_receive()) {
        return Err(Failure::Config(format!(
            "{name}: no account can receive (every bind is \"tx\")"
        )));
    }
    Ok(config)
}

/// Opens the configuration's store (none for `memory`) and binds the pool, with every
/// receipt as an item of its own (the commands show each receipt as it comes, and each
/// message's report). An address that does not resolve is a [`Failure::Config`] (nothing
/// was bound).
pub(crate) fn open_pool(config: &PoolConfig) -> Result<Pool, Failure> {
    let store = match config.store.as_ref().map(|s| s.url.as_str()) {
        None | Some("memory") => None,
        Some(url) => {
            let store = smpp_store::open(url)
                .map_err(|e| Failure::Run(format!("[store] url {url}: {e}")))?;
            Some(smpp_client::StoreHandle::new(store))
        }
    };
    let options = smpp_client::pool::PoolOptions {
        store,
        receipt_items: smpp_client::ReceiptItems::All,
        ..smpp_client::pool::PoolOptions::default()
    };
    Pool::from_config_with(config, options).map_err(|e| match e {
        Error::Config(c) => Failure::Config(c.to_string()),
        e => Failure::Run(format!("binding the pool failed: {e}")),
    })
}

/// Where messages go: one client (and the embedded SMSC it may be bound to) or a pool.
pub(crate) enum Target {
    Client {
        client: Client,
        window: usize,
        smsc: Option<Box<Smsc>>,
    },
    Pool(Box<Pool>),
}

impl Target {
    pub(crate) fn send_text(
        &self,
        from: &str,
        to: &str,
        text: &str,
        options: &TextOptions,
    ) -> Result<Sent, Error> {
        match self {
            Target::Client { client, .. } => client.send_text(from, to, text, options),
            Target::Pool(p) => p.send_text(from, to, text, options),
        }
    }

    /// Sends one message given as its `submit_sm`s (tracked, as a text is); a pool (which
    /// only sends texts) answers [`Error::NoBind`].
    pub(crate) fn send_segments(
        &self,
        segments: Vec<smpp_pdu::SubmitSm<'static>>,
        options: &TextOptions,
    ) -> Result<Sent, Error> {
        match self {
            Target::Client { client, .. } => client.send_segments(segments, options),
            Target::Pool(_) => Err(Error::NoBind),
        }
    }

    /// Sends every text, calling `progress` with each result (a client's in groups, after
    /// each `send_many` of a few windows' worth; a pool's as they come).
    pub(crate) fn send_many(
        &self,
        texts: Vec<OutgoingText>,
        mut progress: impl FnMut(usize, &Result<Sent, Error>),
    ) -> Vec<Result<Sent, Error>> {
        match self {
            Target::Pool(p) => p.send_many(texts, progress),
            Target::Client { client, window, .. } => {
                let group = (window * 4).max(64);
                let mut results = Vec::with_capacity(texts.len());
                let mut texts = texts.into_iter().peekable();
                while texts.peek().is_some() {
                    let part: Vec<OutgoingText> = texts.by_ref().take(group).collect();
                    for r in client.send_many(part, *window) {
                        progress(results.len(), &r);
                        results.push(r);
                    }
                }
                results
            }
        }
    }

    pub(crate) fn inbound(&self) -> &crossbeam_channel::Receiver<Inbound> {
        match self {
            Target::Client { client, .. } => client.inbound(),
            Target::Pool(p) => p.inbound(),
        }
    }

    /// Unbinds (and stops the embedded SMSC).
    pub(crate) fn finish(self) -> Result<(), String> {
        match self {
            Target::Client { client, smsc, .. } => {
                let r = client
                    .unbind()
                    .map(|_| ())
                    .map_err(|e| format!("unbind failed: {e}"));
                if let Some(s) = smsc {
                    s.shutdown();
                }
                r
            }
            Target::Pool(p) => {
                p.close();
                Ok(())
            }
        }
    }
}

/// A progress bar on stderr when it is a terminal, the output is not JSON and there is
/// more than one message (one message's line says all a bar would).
pub(crate) fn progress_bar(total: u64, json: bool) -> Option<ProgressBar> {
    if json || total < 2 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    let style =
        ProgressStyle::with_template("{bar:30} {pos}/{len} messages, {rate}, {elapsed} {msg}")
            .map(|s| {
                s.with_key(
                    "rate",
                    |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.0} msg/s", s.per_sec());
                    },
                )
            })
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

/// Runs `f` (which prints) with the bar, if any, out of the way.
pub(crate) fn above(bar: &Option<ProgressBar>, f: impl FnOnce()) {
    match bar {
        Some(b) => b.suspend(f),
        None => f(),
    }
}

/// What became of every message: the closing summary.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) messages: u64,
    pub(crate) submitted: u64,
    pub(crate) failed: u64,
    pub(crate) unknown: u64,
    /// Reports by final state (`DELIVRD`, ...), with --wait-receipt.
    pub(crate) receipts: BTreeMap<String, u64>,
}

impl Tally {
    /// `{"event":"summary","messages":N,...,"receipts":{"DELIVRD":n}}`.
    pub(crate) fn json(&self) -> String {
        let mut receipts = Object::new();
        for (state, n) in &self.receipts {
            receipts.num(state, *n);
        }
        let mut j = Object::new();
        j.str("event", "summary")
            .num("messages", self.messages)
            .num("submitted", self.submitted)
            .num("failed", self.failed)
            .num("unknown", self.unknown)
            .raw("receipts", &receipts.finish());
        j.finish()
    }

    /// `summary  23 message(s): 20 submitted, 3 failed, 0 outcome unknown; receipts: DELIVRD 20`.
    pub(crate) fn line(&self) -> String {
        let mut s = format!(
            "summary  {} message(s): {} submitted, {} failed, {} outcome unknown",
            self.messages, self.submitted, self.failed, self.unknown
        );
        if !self.receipts.is_empty() {
            let parts: Vec<String> = self
                .receipts
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            s.push_str(&format!("; receipts: {}", parts.join(", ")));
        }
        s
    }
}

/// Whether an error is the row's own (its addresses, text or times), not the SMSC's or
/// the connection's.
pub(crate) fn is_row_error(e: &Error) -> bool {
    matches!(
        e,
        Error::SourceAddress(_)
            | Error::DestAddress(_)
            | Error::Text(_)
            | Error::Encode(_)
            | Error::Time(_)
    )
}

/// Whether the SMSC may or may not have the message.
pub(crate) fn is_unknown(e: &Error) -> bool {
    matches!(e, Error::Timeout | Error::Disconnected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(csv: &str) -> Result<(Vec<Row>, Vec<BadRow>), Failure> {
        read_rows_from(csv.as_bytes(), "t.csv")
    }

    #[test]
    fn columns_in_any_order_and_bad_rows_by_line() {
        let (ok, bad) = rows(
            "text,ref,to\nhello,r1,447700900001\n\"two\nlines\",,447700900002\n,r3,447700900003\nx,r4,\n1,2\n",
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].line, 2);
        assert_eq!(ok[0].reference.as_deref(), Some("r1"));
        assert_eq!(ok[1].line, 3);
        assert_eq!(ok[1].text, "two\nlines");
        assert_eq!(ok[1].reference, None);
        let lines: Vec<u64> = bad.iter().map(|b| b.0).collect();
        assert_eq!(lines, [5, 6, 7], "{bad:?}");
        assert_eq!(bad[0].1, "text: empty");
        assert_eq!(bad[1].1, "destination address: empty");
        assert!(bad[2].1.starts_with("malformed CSV"), "{bad:?}");
    }

    #[test]
    fn header_errors_name_the_column() {
        let e = |s: &str| match rows(s) {
            Err(Failure::Config(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(e("to,text,colour\n").contains("unknown column `colour`"));
        assert!(e("to,from\n").contains("no `text` column"));
        assert!(e("text\n").contains("no `to` column"));
        assert!(e("to,text,to\n").contains("column `to` appears twice"));
    }
}
