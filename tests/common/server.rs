//! The real `mediate` binary, started on loopback ports for one test and stopped (SIGTERM,
//! then SIGKILL) when dropped.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    pub http: Option<SocketAddr>,
    pub https: Option<SocketAddr>,
    /// stderr lines (logs), collected in the background.
    logs: mpsc::Receiver<String>,
    collected: Vec<String>,
}

pub fn mediate_bin() -> &'static str {
    env!("CARGO_BIN_EXE_mediate")
}

/// Writes `files` (relative path → content) under `dir`.
pub fn write_files(dir: &Path, files: &[(&str, String)]) {
    for (rel, text) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    }
}

/// The lines a pipe produces, read on a thread of their own.
fn lines_of(pipe: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Server {
    /// Starts `mediate serve` on `<dir>/conf/axis2.xml` and `<dir>/mediation`.
    pub fn start(dir: &Path) -> Server {
        Self::spawn(Command::new(mediate_bin()).args(["serve", "--workers", "2", "--axis2"]).arg(dir.join("conf/axis2.xml")).arg("--mediation").arg(dir.join("mediation")))
    }

    /// Starts the binary with any arguments; waits until every listener is reported.
    pub fn spawn(cmd: &mut Command) -> Server {
        let mut child = cmd
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mediate");
        let logs = lines_of(child.stderr.take().unwrap());
        let rx = lines_of(child.stdout.take().unwrap());
        let mut server = Server { child, http: None, https: None, logs, collected: Vec::new() };
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen_any = false;
        loop {
            match rx.recv_timeout(Duration::from_millis(300)) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("mediate listening on ") {
                        seen_any = true;
                        let (scheme, addr) = rest.split_once("://").unwrap();
                        let addr: SocketAddr = addr.trim().parse().unwrap();
                        match scheme {
                            "http" => server.http = Some(addr),
                            "https" => server.https = Some(addr),
                            other => panic!("unknown scheme {other}"),
                        }
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) if seen_any => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let logs = server.logs();
                    panic!("mediate exited before listening; logs:\n{}", logs.join("\n"));
                }
            }
            assert!(Instant::now() < deadline, "mediate did not start in time; logs:\n{}", server.logs().join("\n"));
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("mediate exited with {status}; logs:\n{}", server.logs().join("\n"));
            }
        }
        // keep draining stdout so the child never blocks on a full pipe
        std::thread::spawn(move || while rx.recv().is_ok() {});
        server
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything logged so far.
    pub fn logs(&mut self) -> Vec<String> {
        while let Ok(l) = self.logs.try_recv() {
            self.collected.push(l);
        }
        self.collected.clone()
    }

    /// Waits (up to 10 s) until a log line contains `needle`; whether one did.
    pub fn wait_for_log(&mut self, needle: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.logs().iter().any(|l| l.contains(needle)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn https_url(&self, path: &str) -> String {
        format!("https://{}{path}", self.https.expect("https listener"))
    }

    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http.expect("http listener"))
    }

    /// A value from /proc/<pid>/status in kB (VmRSS, VmHWM).
    pub fn proc_status_kb(&self, key: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let line = status.lines().find(|l| l.starts_with(key)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// Sends SIGTERM and waits for the exit (SIGKILL after `grace`).
    pub fn terminate(&mut self, grace: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate(Duration::from_secs(5));
        }
    }
}
