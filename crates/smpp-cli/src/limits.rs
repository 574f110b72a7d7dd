//! The open-files limit (`RLIMIT_NOFILE`) of `smpp smsc`: every connection is a file
//! descriptor, and the usual soft limit (1024) is far below what a server of thousands of
//! sessions needs, while the hard limit often allows more.

/// Descriptors the process needs besides its connections: stdio, the listener, epoll,
/// the loop's waker, the PDU log, the metrics listener and its connections, with room.
pub(crate) const SPARE_FDS: u64 = 64;

/// What [`raise_nofile`] found and did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Nofile {
    /// The soft limit before.
    pub(crate) soft_before: u64,
    /// The soft limit now.
    pub(crate) soft: u64,
    /// The hard limit, the ceiling of the soft one for an unprivileged process.
    pub(crate) hard: u64,
}

/// Raises the soft open-files limit to the hard limit (on macOS, to the kernel's
/// per-process maximum when that is lower). The error if the limits cannot be read or set.
pub(crate) fn raise_nofile() -> std::io::Result<Nofile> {
    let (soft_before, hard) = rlimit::Resource::NOFILE.get()?;
    // `increase_nofile_limit` caps the request at the hard limit (and at
    // `kern.maxfilesperproc` on macOS) and never lowers the soft limit.
    let soft = rlimit::increase_nofile_limit(u64::MAX)?;
    Ok(Nofile {
        soft_before,
        soft,
        hard,
    })
}

/// The warning for `max_connections` connections when the soft limit is `soft` and the
/// hard one `hard`, or `None` when the limit is enough.
pub(crate) fn shortfall(nofile: &Nofile, max_connections: usize) -> Option<String> {
    let needed = (max_connections as u64).saturating_add(SPARE_FDS);
    (nofile.soft < needed).then(|| {
        format!(
            "smpp smsc: warning: the open-files limit (RLIMIT_NOFILE) is {} (hard limit {}), \
             below the {needed} that --max-connections {max_connections} needs \
             ({max_connections} connections and {SPARE_FDS} spare); connections past about {} \
             will fail (EMFILE). Raise the hard limit (`ulimit -Hn` as root, LimitNOFILE= \
             in a systemd unit, /etc/security/limits.conf) or lower --max-connections.",
            fmt_limit(nofile.soft),
            fmt_limit(nofile.hard),
            nofile.soft.saturating_sub(SPARE_FDS),
        )
    })
}

/// A limit as `ulimit` shows it.
fn fmt_limit(n: u64) -> String {
    if n == rlimit::INFINITY {
        "unlimited".into()
    } else {
        n.to_string()
    }
}

/// Raises the limit, logs what happened, and prints a warning on stderr when the limit
/// stays below what `max_connections` needs.
pub(crate) fn prepare(max_connections: usize) {
    match raise_nofile() {
        Ok(n) => {
            if n.soft > n.soft_before {
                log::info!(
                    "open-files limit raised from {} to {} (hard limit {})",
                    fmt_limit(n.soft_before),
                    fmt_limit(n.soft),
                    fmt_limit(n.hard)
                );
            } else {
                log::info!(
                    "open-files limit {} (hard limit {}), left as it is",
                    fmt_limit(n.soft),
                    fmt_limit(n.hard)
                );
            }
            if let Some(w) = shortfall(&n, max_connections) {
                crate::out::errln!("{w}");
            }
        }
        Err(e) => crate::out::errln!(
            "smpp smsc: warning: cannot raise the open-files limit (RLIMIT_NOFILE): {e}; \
             --max-connections {max_connections} may fail past the current limit (`ulimit -n`)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::{raise_nofile, shortfall, Nofile, SPARE_FDS};

    #[test]
    fn the_soft_limit_ends_at_the_hard_one() {
        let n = raise_nofile().expect("getrlimit/setrlimit");
        assert!(n.soft >= n.soft_before, "{n:?}");
        assert!(n.soft <= n.hard, "{n:?}");
        let (soft, _) = rlimit::Resource::NOFILE.get().expect("getrlimit");
        assert_eq!(soft, n.soft);
    }

    #[test]
    fn the_warning_names_both_limits_and_the_need() {
        let n = Nofile {
            soft_before: 1024,
            soft: 4096,
            hard: 4096,
        };
        let w = shortfall(&n, 10_000).expect("short");
        for part in ["4096 (hard limit 4096)", "10064", "--max-connections 10000"] {
            assert!(w.contains(part), "{part}: {w}");
        }
        assert_eq!(shortfall(&n, 4096 - SPARE_FDS as usize), None);
        let n = Nofile {
            soft_before: 1024,
            soft: 1_048_576,
            hard: rlimit::INFINITY,
        };
        assert_eq!(shortfall(&n, 10_000), None);
    }
}
