//! A real SMTP server for mail tests: `py/smtp_sink.py` (Python's `aiosmtpd`, pinned in the
//! test environment) listening on a free loopback port, keeping every message it receives.
//! Point ScaiKey at [`SmtpSink::url`]; read what arrived with [`SmtpSink::wait_for`].

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// Envelope sender.
    pub from: String,
    /// Envelope recipients.
    pub to: Vec<String>,
    /// The raw message (headers and body).
    pub data: String,
}

impl ReceivedMail {
    /// The body with quoted-printable soft line breaks and `=3D` undone (what a mail client shows).
    #[must_use]
    pub fn text(&self) -> String {
        let body = self.data.split_once("\r\n\r\n").or_else(|| self.data.split_once("\n\n")).map_or("", |(_, b)| b);
        body.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")
    }

    /// The value of the first header `name` (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    /// The first `http(s)://…` link of the body.
    #[must_use]
    pub fn link(&self) -> Option<String> {
        let text = self.text();
        let start = text.find("http://").or_else(|| text.find("https://"))?;
        Some(text[start..].split_whitespace().next()?.to_string())
    }
}

/// A running SMTP server; it stops when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    child: Child,
    dir: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl SmtpSink {
    /// Starts a server (installing the test environment on first use).
    pub fn start() -> anyhow::Result<SmtpSink> {
        let py = crate::tools::python()?;
        let dir = crate::tools::artifacts_dir()?.join(format!("smtp-{}", ulid::Ulid::new()));
        let mut child = Command::new(py)
            .arg(crate::tools::scripts_dir().join("smtp_sink.py"))
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting smtp_sink.py")?;
        let out = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line).context("reading the SMTP server's port")?;
        let Some(port) = line.trim().strip_prefix("READY ").and_then(|p| p.parse().ok()) else {
            let _ = child.kill();
            bail!("smtp_sink.py did not start: {line:?}");
        };
        Ok(SmtpSink { child, dir, port })
    }

    /// `smtp://127.0.0.1:<port>` for `SCAIKEY_SMTP_URL`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, oldest first.
    pub fn received(&self) -> anyhow::Result<Vec<ReceivedMail>> {
        let mut names: Vec<_> = std::fs::read_dir(&self.dir)?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
            .collect();
        names.sort_by_key(|n| n.split('-').next().and_then(|t| t.parse::<u128>().ok()).unwrap_or_default());
        names
            .iter()
            .map(|n| {
                let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(self.dir.join(n))?)?;
                Ok(ReceivedMail {
                    from: v["from"].as_str().unwrap_or_default().to_string(),
                    to: v["to"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|t| t.as_str().map(str::to_string))
                        .collect(),
                    data: v["data"].as_str().unwrap_or_default().to_string(),
                })
            })
            .collect()
    }

    /// Waits (up to 15 s) until `n` messages to `to` have arrived, and returns them.
    pub async fn wait_for(&self, to: &str, n: usize) -> anyhow::Result<Vec<ReceivedMail>> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let got: Vec<_> = self.received()?.into_iter().filter(|m| m.to.iter().any(|t| t == to)).collect();
            if got.len() >= n {
                return Ok(got);
            }
            if Instant::now() > deadline {
                bail!("{} of {n} mails to {to} arrived", got.len());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // Closing stdin ends the script; kill in case it hangs.
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
