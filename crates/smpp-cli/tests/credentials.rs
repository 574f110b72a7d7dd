//! Where the password comes from (--password-file, SMPP_PASSWORD, the prompt on a
//! terminal, and never from nowhere), profiles (`--smsc NAME` from the configuration file,
//! SMPP_CONFIG), completions, --version, and colour (terminal, CLICOLOR_FORCE, NO_COLOR).

#![allow(clippy::print_stderr)] // says when the prompt test is skipped (no `script`)

mod common;

use common::{err, out, smpp, smpp_env};
use smpp_smsc::{Smsc, SmscConfig, User};

fn smsc() -> Smsc {
    Smsc::start(SmscConfig::default().user(User::new("alice", "s3cret"))).expect("SMSC")
}

fn send_args<'a>(addr: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "send",
        "--addr",
        addr,
        "--system-id",
        "alice",
        "--to",
        "447700900123",
        "--text",
        "hi",
    ];
    v.extend_from_slice(extra);
    v
}

#[test]
fn the_password_comes_from_a_file_or_the_environment() {
    let smsc = smsc();
    let addr = smsc.local_addr().to_string();
    let dir = std::env::temp_dir().join(format!("smpp-cred-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("pw");
    std::fs::write(&file, "s3cret\n").expect("write");
    let f = file.to_string_lossy().into_owned();
    let o = smpp(&send_args(&addr, &["--password-file", &f]));
    assert!(o.status.success(), "{}", err(&o));
    let o = smpp_env(&send_args(&addr, &[]), &[("SMPP_PASSWORD", "s3cret")]);
    assert!(o.status.success(), "{}", err(&o));
    // The command line wins over the environment.
    let o = smpp_env(
        &send_args(&addr, &["--password", "wrong"]),
        &[("SMPP_PASSWORD", "s3cret")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("ESME_RINVPASWD"), "{}", err(&o));
    // No password and no terminal to ask on: a clear error, nothing sent.
    let o = smpp(&send_args(&addr, &[]));
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("needs a password"), "{}", err(&o));
    // A missing file is named.
    let o = smpp(&send_args(&addr, &["--password-file", "/no/such/file"]));
    assert!(
        err(&o).contains("--password-file /no/such/file"),
        "{}",
        err(&o)
    );
    assert_eq!(smsc.stats().submits, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn smsc_picks_a_profile_from_the_configuration_file() {
    let smsc = smsc();
    let dir = std::env::temp_dir().join(format!("smpp-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("smpp.toml");
    std::fs::write(
        &path,
        format!(
            "[[smsc]]\nname = \"dead\"\naddr = \"127.0.0.1:1\"\nsystem_id = \"x\"\npassword = \"y\"\n\n\
             [[smsc]]\nname = \"a\"\naddr = \"{}\"\nsystem_id = \"alice\"\npassword_env = \"ALICE_PW\"\n",
            smsc.local_addr()
        ),
    )
    .expect("write");
    let p = path.to_string_lossy().into_owned();
    let args = [
        "send",
        "--smsc",
        "a",
        "--to",
        "447700900123",
        "--text",
        "hi",
        "--json",
    ];
    let o = smpp_env(&args, &[("SMPP_CONFIG", &p), ("ALICE_PW", "s3cret")]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("\"submitted\":1"), "{}", out(&o));
    let o = smpp_env(
        &[
            "send", "--config", &p, "--smsc", "b", "--to", "1", "--text", "x",
        ],
        &[("ALICE_PW", "s3cret")],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("no [[smsc]] named \"b\""), "{}", err(&o));
    assert_eq!(smsc.stats().submits, 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn completions_and_version() {
    for shell in ["bash", "zsh", "fish"] {
        let o = smpp(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", err(&o));
        let script = out(&o);
        assert!(
            script.contains("smpp") && script.contains("password-file"),
            "{shell}"
        );
    }
    let o = smpp(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    let o = smpp(&["--version"]);
    assert!(out(&o).starts_with("smpp "), "{}", out(&o));
}

/// With no password given and a terminal on stdin, `smpp` asks for it there (not echoed)
/// and binds with what is typed. `script` (util-linux) gives the child a terminal; the
/// password is typed only once the prompt showed.
#[test]
fn the_password_is_asked_for_on_a_terminal() {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return;
    }
    let smsc = smsc();
    let addr = smsc.local_addr().to_string();
    let line = [env!("CARGO_BIN_EXE_smpp")]
        .into_iter()
        .chain(send_args(&addr, &[]))
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_remove("SMPP_PASSWORD")
        .env_remove("SMPP_CONFIG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script runs");
    let mut stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let end = Instant::now() + Duration::from_secs(30);
    let mut seen = String::new();
    let mut typed = false;
    while let Ok(chunk) = rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
        seen.push_str(&String::from_utf8_lossy(&chunk));
        if !typed && seen.contains(&format!("password for alice at {addr}: ")) {
            // The prompt is written just before echo is turned off (rpassword's order): a
            // person never types within that instant, but this test could, and the
            // terminal would echo the password (seen once on a loaded machine). Wall
            // clock, because the child's terminal modes cannot be watched from here.
            std::thread::sleep(Duration::from_millis(300));
            let stdin = child.stdin.as_mut().expect("stdin");
            stdin.write_all(b"s3cret\n").expect("type");
            stdin.flush().expect("flush");
            typed = true;
        }
    }
    let o = common::finish(child, Duration::from_secs(10), "smpp under script");
    reader.join().expect("reader");
    assert!(typed, "no prompt: {seen}");
    assert!(o.status.success(), "{seen}");
    assert!(seen.contains("submitted to 447700900123"), "{seen}");
    assert!(!seen.contains("s3cret"), "the password was echoed: {seen}");
    assert_eq!(smsc.stats().submits, 1);
}

/// Readable lines are coloured only on a terminal or when CLICOLOR_FORCE asks, and never
/// with NO_COLOR: the first word only, so the rest stays as it is.
#[test]
fn colour_only_when_asked_for_and_never_with_no_color() {
    let smsc = smsc();
    let addr = smsc.local_addr().to_string();
    let args = send_args(&addr, &["--password", "s3cret"]);
    let o = smpp_env(&args, &[("CLICOLOR_FORCE", "1")]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).starts_with("\x1b[32msubmitted\x1b[0m to 447700900123"),
        "{:?}",
        out(&o)
    );
    for env in [
        &[][..],
        &[("CLICOLOR_FORCE", "0")][..],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")][..],
    ] {
        let o = smpp_env(&args, env);
        assert!(o.status.success(), "{}", err(&o));
        assert!(
            out(&o).starts_with("submitted to 447700900123") && !out(&o).contains('\x1b'),
            "{env:?}: {:?}",
            out(&o)
        );
    }
}
