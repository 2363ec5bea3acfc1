//! A real browser for the web UI's tests: Debian's headless Chromium driven through its
//! chromedriver (`make test` installs both), one fresh browser and profile per test.
//!
//! Waits are page events, not time: [`Browser::wait_for`] resolves from a `MutationObserver`
//! inside the page the moment the awaited element exists, and [`PATIENCE`] (the WebDriver
//! script timeout) only bounds how long a broken test takes to fail.

use std::path::PathBuf;
use std::process::Stdio;

use fantoccini::elements::Element;
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use super::PATIENCE;

/// Debian's chromedriver and the Chromium it drives.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// A name the browser resolves to 127.0.0.1, as a DNS-rebinding attacker's name would.
pub(crate) const REBOUND_HOST: &str = "rebound.test";

/// The viewport the screenshots are taken at.
const VIEWPORT: (u32, u32) = (1440, 900);

/// A headless Chromium with its chromedriver; both are killed when dropped.
pub(crate) struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser").finish_non_exhaustive()
    }
}

impl Browser {
    /// Starts chromedriver on a free loopback port and a fresh headless Chromium through it.
    pub(crate) async fn start() -> Self {
        assert!(
            std::path::Path::new(CHROMEDRIVER).is_file(),
            "{CHROMEDRIVER} is missing: `make test` installs Debian's chromium and chromium-driver"
        );
        // chromedriver has been seen to exit before saying its port on a loaded machine (its
        // `--port=0` bind racing other processes): a fresh one is tried, three times at most.
        let mut attempt = 0;
        let (driver, port, mut lines) = loop {
            attempt += 1;
            let mut driver = Command::new(CHROMEDRIVER)
                .arg("--port=0")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                // Its own process group, so the browser it starts can be ended with it.
                .process_group(0)
                .kill_on_drop(true)
                .spawn()
                .expect("spawning chromedriver");
            let stdout = driver.stdout.take().expect("stdout is piped");
            let mut lines = BufReader::new(stdout).lines();
            let port = tokio::time::timeout(PATIENCE, async {
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(port) = line
                        .split("started successfully on port ")
                        .nth(1)
                        .and_then(|p| p.trim_end_matches('.').parse::<u16>().ok())
                    {
                        return Some(port);
                    }
                }
                None
            })
            .await
            .expect("chromedriver said which port it listens on, or stopped");
            match port {
                Some(port) => break (driver, port, lines),
                None if attempt < 3 => continue,
                None => panic!(
                    "chromedriver stopped {attempt} times before saying which port it listens on \
                     (last exit: {:?})",
                    driver.wait().await
                ),
            }
        };
        // Keep reading, so chromedriver never writes into a full or closed pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

        let profile = tempfile::tempdir().expect("a profile directory");
        let args = [
            "--headless=new".to_owned(),
            // As root in a container, Chromium's sandbox cannot start.
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            // This machine's network is closed: nothing may try to reach out.
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
            format!("--window-size={},{}", VIEWPORT.0, VIEWPORT.1),
            "--force-device-scale-factor=1".to_owned(),
            format!("--host-resolver-rules=MAP {REBOUND_HOST} 127.0.0.1"),
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object")
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = tokio::time::timeout(
            PATIENCE,
            ClientBuilder::new(connector)
                .capabilities(capabilities)
                .connect(&format!("http://127.0.0.1:{port}")),
        )
        .await
        .expect("Chromium started within PATIENCE")
        .expect("a WebDriver session");
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(PATIENCE),
                Some(PATIENCE),
                Some(std::time::Duration::ZERO),
            ))
            .await
            .expect("setting the WebDriver timeouts");
        let browser = Self {
            client,
            driver,
            _profile: profile,
        };
        browser.fit_viewport().await;
        browser
    }

    /// Makes the page's viewport exactly [`VIEWPORT`] (the window includes some frame).
    async fn fit_viewport(&self) {
        let inner = self
            .eval("return [window.innerWidth, window.innerHeight]")
            .await;
        let (w, h) = (
            inner[0].as_u64().unwrap_or(0) as u32,
            inner[1].as_u64().unwrap_or(0) as u32,
        );
        if (w, h) != VIEWPORT {
            let (window_w, window_h) = self.client.get_window_size().await.expect("window size");
            let width = window_w as u32 + VIEWPORT.0 - w;
            let height = window_h as u32 + VIEWPORT.1 - h;
            let _ = self.client.set_window_size(width, height).await;
        }
    }

    /// Opens `url` and waits until the inbox has loaded its first page.
    pub(crate) async fn open_ui(&self, url: &str) {
        self.goto(url).await;
        self.wait_for("html[data-ready]", "").await;
    }

    /// Navigates to `url` (the WebDriver command returns once the page has loaded).
    pub(crate) async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    /// Waits until an element matching `css` whose text contains `text` is in the page,
    /// watching the page's mutations (no polling); returns its text.
    pub(crate) async fn wait_for(&self, css: &str, text: &str) -> String {
        let script = r#"
            const [css, text, done] = arguments;
            const find = () => [...document.querySelectorAll(css)].find((e) => e.textContent.includes(text));
            const found = find();
            if (found) return done(found.textContent);
            const observer = new MutationObserver(() => {
                const el = find();
                if (el) { observer.disconnect(); done(el.textContent); }
            });
            observer.observe(document.documentElement, { subtree: true, childList: true, characterData: true, attributes: true });
        "#;
        match self
            .client
            .execute_async(script, vec![json!(css), json!(text)])
            .await
        {
            Ok(Value::String(found)) => found,
            Ok(other) => panic!("waiting for {css:?} with {text:?}: got {other}"),
            Err(e) => {
                let page = self.eval("return document.body.innerText").await;
                panic!(
                    "no {css:?} containing {text:?} within {PATIENCE:?} ({e}); the page says:\n{page}"
                )
            }
        }
    }

    /// Waits until `condition` (a JS expression) is true, re-checking on every change of
    /// the page.
    pub(crate) async fn wait_until(&self, condition: &str) {
        let script = format!(
            r#"
            const done = arguments[0];
            const ok = () => {{ try {{ return !!({condition}); }} catch {{ return false; }} }};
            if (ok()) return done(true);
            const observer = new MutationObserver(() => {{ if (ok()) {{ observer.disconnect(); done(true); }} }});
            observer.observe(document.documentElement, {{ subtree: true, childList: true, characterData: true, attributes: true }});
        "#
        );
        if let Err(e) = self.client.execute_async(&script, vec![]).await {
            let page = self.eval("return document.body.innerText").await;
            panic!(
                "{condition} did not become true within {PATIENCE:?} ({e}); the page says:\n{page}"
            );
        }
    }

    /// Runs `script` (a function body; `arguments` are empty) and returns its value.
    pub(crate) async fn eval(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("running {script:?}: {e}"))
    }

    /// Runs an async `script`: it gets a `done` callback as its last argument.
    pub(crate) async fn eval_async(&self, script: &str) -> Value {
        self.client
            .execute_async(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("running {script:?}: {e}"))
    }

    /// The element matching `css` (it must be there).
    pub(crate) async fn find(&self, css: &str) -> Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css:?} in the page: {e}"))
    }

    /// Runs `script` with `args` (as `arguments`) and returns its value.
    pub(crate) async fn eval_with(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("running {script:?}: {e}"))
    }

    /// The `textContent` of the first element matching `css`, if there is one.
    pub(crate) async fn text(&self, css: &str) -> Option<String> {
        let script = "return document.querySelector(arguments[0])?.textContent ?? null";
        let found = self.eval_with(script, vec![json!(css)]).await;
        found.as_str().map(str::to_owned)
    }

    /// The texts of every element matching `css`.
    pub(crate) async fn texts(&self, css: &str) -> Vec<String> {
        let script =
            "return [...document.querySelectorAll(arguments[0])].map((e) => e.textContent)";
        let found = self.eval_with(script, vec![json!(css)]).await;
        serde_json::from_value(found).unwrap_or_default()
    }

    /// Clicks the element matching `css`.
    pub(crate) async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {css:?}: {e}"));
    }

    /// The text of the document inside the frame matching `css`, whatever its origin (WebDriver
    /// may enter a frame the page itself cannot read).
    pub(crate) async fn frame_text(&self, css: &str) -> String {
        self.find(css)
            .await
            .enter_frame()
            .await
            .unwrap_or_else(|e| panic!("entering the frame {css:?}: {e}"));
        let text = self.eval("return document.body.innerText").await;
        self.client
            .enter_parent_frame()
            .await
            .unwrap_or_else(|e| panic!("leaving the frame {css:?}: {e}"));
        text.as_str().unwrap_or_default().to_owned()
    }

    /// Replaces the value of the input matching `css` with `text`, as typed.
    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let input = self.find(css).await;
        input
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clearing {css:?}: {e}"));
        input
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into {css:?}: {e}"));
    }

    /// Chooses `value` in the `<select>` matching `css`.
    pub(crate) async fn select(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("choosing {value:?} in {css:?}: {e}"));
    }

    /// Saves a PNG of the page (or of the element matching `css`) as
    /// `target/ui-screenshots/<name>.png`, for review; returns where.
    pub(crate) async fn screenshot(&self, name: &str, css: Option<&str>) -> PathBuf {
        let png = match css {
            Some(css) => self.find(css).await.screenshot().await,
            None => self.client.screenshot().await,
        }
        .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("creating the screenshot directory");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("writing the screenshot");
        path
    }

    /// Ends the session (and the browser), then chromedriver.
    pub(crate) async fn close(mut self) {
        let _ = tokio::time::timeout(PATIENCE, self.client.clone().close()).await;
        self.kill_group();
        let _ = self.driver.wait().await;
    }

    fn kill_group(&mut self) {
        if let Some(pid) = self.driver.id() {
            // The process group we gave chromedriver, with the Chromium it started.
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// `target/ui-screenshots`, beside the test binary's `target/<profile>/deps`.
fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    exe.ancestors()
        .nth(3)
        .expect("the test binary lives in target/<profile>/deps")
        .join("ui-screenshots")
}
