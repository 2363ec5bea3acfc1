//! The `mock-apns` binary as a child process: started on free ports (`127.0.0.1:0`, the banner
//! says which were bound), its banner parsed, its stderr followed, its memory read from /proc,
//! and signals sent to it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};

use mock_apns::admin::Client;
use mock_apns::SigningKey;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStdout, Command};
use tokio::sync::mpsc;
use tokio_rustls::client::TlsStream;

use super::admin::admin_at;
use super::apns_client::tls_connect;
use super::raw_h2::RawH2;
use super::PATIENCE;

/// The last line of the banner.
const BANNER_END: &str = "Then see it:";

/// Where cargo put the `mock-apns` binary: beside this test's own `deps/` directory.
pub(crate) fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    // target/<profile>/deps/e2e-<hash> → target/<profile>/mock-apns
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps");
    let bin = dir.join(format!("mock-apns{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: build it with `cargo build --workspace --bins` (`make test` does)",
        bin.display()
    );
    bin
}

/// What the start-up banner says.
#[derive(Debug, Clone)]
pub(crate) struct Banner {
    pub(crate) text: String,
    /// `https://localhost:<port>`.
    pub(crate) apns_url: String,
    /// `http://127.0.0.1:<port>/api/v1/`.
    pub(crate) admin_url: String,
    /// `http://127.0.0.1:<port>/`: the web UI.
    pub(crate) ui_url: String,
    pub(crate) ca_path: PathBuf,
    pub(crate) key_path: PathBuf,
    pub(crate) key_id: String,
    pub(crate) team_id: String,
    /// The example curl command, its continuation lines joined as the shell would read them.
    pub(crate) curl: String,
}

impl Banner {
    fn parse(text: &str) -> Self {
        let field = |label: &str| -> String {
            text.lines()
                .find_map(|l| l.trim_start().strip_prefix(label))
                .unwrap_or_else(|| panic!("banner has no {label:?} line:\n{text}"))
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        let key_line = text
            .lines()
            .find(|l| l.trim_start().starts_with("dev key"))
            .unwrap_or_else(|| panic!("banner has no dev key line:\n{text}"));
        let after = |word: &str| -> String {
            key_line
                .split(word)
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .unwrap_or_else(|| panic!("no {word:?} in {key_line:?}"))
                .to_owned()
        };
        let curl: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("curl "))
            .scan(true, |more, line| {
                let this = (*more).then_some(line);
                *more = line.ends_with('\\');
                this
            })
            .collect();
        assert!(!curl.is_empty(), "banner has no curl command:\n{text}");
        Self {
            text: text.to_owned(),
            apns_url: field("APNs endpoint"),
            admin_url: field("admin API"),
            ui_url: field("web UI"),
            ca_path: field("trust this CA").into(),
            key_path: field("dev key").into(),
            key_id: after("key id"),
            team_id: after("team id"),
            curl: curl.join("\n"),
        }
    }

    /// The APNs endpoint's loopback address.
    pub(crate) fn apns_addr(&self) -> SocketAddr {
        let port = self
            .apns_url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse::<u16>().ok())
            .unwrap_or_else(|| panic!("no port in {}", self.apns_url));
        SocketAddr::from(([127, 0, 0, 1], port))
    }
}

/// A running `mock-apns` process; killed when dropped.
#[derive(Debug)]
pub(crate) struct MockProcess {
    child: Child,
    pub(crate) banner: Banner,
    stderr: mpsc::UnboundedReceiver<String>,
}

/// The binary as a command with no `MOCK_APNS_*` variable of the test's environment, output
/// piped, killed when dropped; the caller adds every argument.
pub(crate) fn command() -> Command {
    command_of(&binary())
}

/// [`command`] for a copy of the binary at `program`.
pub(crate) fn command_of(program: &Path) -> Command {
    let mut command = Command::new(program);
    prepare(&mut command);
    command
}

/// Leaves the test's `MOCK_APNS_*` variables out and pipes the output.
fn prepare(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("MOCK_APNS_") {
            command.env_remove(name);
        }
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
}

impl MockProcess {
    /// Starts the binary on free loopback ports with `state_dir` and `extra` flags (an
    /// `--admin-listen` among them replaces the loopback one), and waits for its banner.
    pub(crate) async fn start(state_dir: &Path, extra: &[&str]) -> Self {
        Self::spawn_with(Command::new(binary()), state_dir, extra).await
    }

    /// Like [`Self::start`], under an open-file limit of `nofile` (soft and hard), as a shell's
    /// `ulimit -n` sets it; `exec` keeps the process id.
    pub(crate) async fn start_with_open_file_limit(
        nofile: u32,
        state_dir: &Path,
        extra: &[&str],
    ) -> Self {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("ulimit -n {nofile} && exec \"$0\" \"$@\""))
            .arg(binary());
        Self::spawn_with(command, state_dir, extra).await
    }

    /// Like [`MockProcess::start`], running the binary at `bin` (an installed copy) from
    /// `state_dir` as its working directory, away from the source tree.
    pub(crate) async fn start_installed(bin: &Path, state_dir: &Path, extra: &[&str]) -> Self {
        let mut command = Command::new(bin);
        command.current_dir(state_dir);
        Self::spawn_with(command, state_dir, extra).await
    }

    async fn spawn_with(mut command: Command, state_dir: &Path, extra: &[&str]) -> Self {
        prepare(&mut command);
        command.args(["--listen", "127.0.0.1:0"]);
        if !extra.contains(&"--admin-listen") {
            command.args(["--admin-listen", "127.0.0.1:0"]);
        }
        command.arg("--state-dir").arg(state_dir).args(extra);
        Self::spawn(command).await
    }

    /// Starts `command` (from [`command`], with every argument given) and waits for its banner.
    pub(crate) async fn spawn(mut command: Command) -> Self {
        let mut child = command.spawn().expect("spawning mock-apns");
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = tx.send(line);
            }
        });
        let text = match tokio::time::timeout(PATIENCE, read_banner(stdout)).await {
            Ok(text) => text,
            Err(_) => panic!("mock-apns printed no banner within {PATIENCE:?}"),
        };
        Self {
            child,
            banner: Banner::parse(&text),
            stderr: rx,
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id().expect("the process is running")
    }

    /// The admin API client.
    pub(crate) fn admin(&self) -> Client {
        admin_at(&self.banner.admin_url)
    }

    /// The CA the banner tells clients to trust.
    pub(crate) fn ca_pem(&self) -> String {
        std::fs::read_to_string(&self.banner.ca_path).expect("the banner's CA file exists")
    }

    /// A raw HTTP/2 connection to the APNs endpoint: TLS with ALPN `h2`, the preface sent.
    pub(crate) async fn raw_h2(&self) -> RawH2<TlsStream<TcpStream>> {
        let tls = tls_connect(
            self.banner.apns_addr(),
            &self.ca_pem(),
            "localhost",
            &[b"h2"],
        )
        .await
        .expect("TLS to the mock");
        RawH2::start(tls).await.expect("HTTP/2 preface sent")
    }

    /// A provider token from the development key the banner names, issued now.
    pub(crate) fn token(&self) -> String {
        let pem = std::fs::read(&self.banner.key_path).expect("the banner's key file exists");
        let key = SigningKey::from_pem(&self.banner.key_id, &self.banner.team_id, &pem)
            .expect("the banner's key loads");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        key.token(now)
    }

    /// Resident memory (`VmRSS` in /proc/<pid>/status), in KiB.
    pub(crate) fn rss_kib(&self) -> u64 {
        proc_status_kib(self.pid(), "VmRSS")
    }

    /// SIGKILL: no chance to flush or clean up.
    pub(crate) async fn kill_9(&mut self) -> ExitStatus {
        self.child.start_kill().expect("sending SIGKILL");
        self.wait_exit().await
    }

    /// SIGINT, as Ctrl-C in a terminal.
    pub(crate) fn interrupt(&self) {
        self.signal("INT");
    }

    /// SIGTERM, as Docker, systemd and CI runners stop a program.
    pub(crate) fn terminate(&self) {
        self.signal("TERM");
    }

    /// Sends the named signal (`INT`, `TERM`) with `kill`.
    pub(crate) fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -{name} failed: {status}");
    }

    /// Waits until the process has exited.
    pub(crate) async fn wait_exit(&mut self) -> ExitStatus {
        match tokio::time::timeout(PATIENCE, self.child.wait()).await {
            Ok(status) => status.expect("waiting for mock-apns"),
            Err(_) => panic!("mock-apns did not exit within {PATIENCE:?}"),
        }
    }

    /// Stops the process with SIGINT and returns every stderr line it printed (after any that
    /// [`Self::stderr_line`] consumed): the pipe is read to its end, so nothing is missed.
    pub(crate) async fn stop_and_collect_stderr(&mut self) -> Vec<String> {
        self.interrupt();
        self.wait_exit().await;
        let mut lines = Vec::new();
        let drain = async {
            while let Some(line) = self.stderr.recv().await {
                lines.push(line);
            }
        };
        if tokio::time::timeout(PATIENCE, drain).await.is_err() {
            panic!("stderr stayed open after the process exited");
        }
        lines
    }

    /// Waits until stderr prints a line containing `needle`; returns it.
    pub(crate) async fn stderr_line(&mut self, needle: &str) -> String {
        let find = async {
            while let Some(line) = self.stderr.recv().await {
                if line.contains(needle) {
                    return Some(line);
                }
            }
            None
        };
        match tokio::time::timeout(PATIENCE, find).await {
            Ok(Some(line)) => line,
            Ok(None) => panic!("stderr closed without a line containing {needle:?}"),
            Err(_) => panic!("no stderr line containing {needle:?} within {PATIENCE:?}"),
        }
    }
}

/// A memory field of /proc/<pid>/status (`VmRSS`, `VmHWM`, ...), in KiB. A free function, so
/// a task that holds only the pid can poll it.
pub(crate) fn proc_status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("reading /proc/{pid}/status: {e}"))
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

async fn read_banner(stdout: ChildStdout) -> String {
    let mut lines = BufReader::new(stdout).lines();
    let mut text = String::new();
    loop {
        match lines.next_line().await {
            Ok(Some(line)) => {
                text.push_str(&line);
                text.push('\n');
                if line.starts_with(BANNER_END) {
                    return text;
                }
            }
            _ => panic!("mock-apns stopped before finishing its banner:\n{text}"),
        }
    }
}

/// Runs a shell command line (as a user would paste it) and returns its stdout, bounded by
/// [`PATIENCE`].
pub(crate) async fn shell(command_line: &str) -> std::process::Output {
    let run = Command::new("sh")
        .arg("-c")
        .arg(command_line)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(PATIENCE, run).await {
        Ok(out) => out.expect("running sh"),
        Err(_) => panic!("{command_line:?} did not finish within {PATIENCE:?}"),
    }
}
