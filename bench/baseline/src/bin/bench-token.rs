//! `bench-token DIR`: prints a provider token (JWT) signed with the development key that
//! mock-apns keeps in its state directory, so a benchmark can reuse one token for every request.
//!
//! The key is described by `DIR/dev-key.json` (`key_id`, `team_id`, `file`), written by the
//! mock on its first start. The token is issued now and valid for an hour, like Apple's.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use mock_apns::SigningKey;

fn main() -> Result<()> {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .context("usage: bench-token STATE_DIR")?
        .into();
    let meta_path = dir.join("dev-key.json");
    let meta: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&meta_path).with_context(|| format!("reading {}", meta_path.display()))?,
    )
    .with_context(|| format!("parsing {}", meta_path.display()))?;
    let field = |name: &str| {
        meta.get(name)
            .and_then(|v| v.as_str())
            .with_context(|| format!("{} has no string {name:?}", meta_path.display()))
    };
    let key_path = dir.join(field("file")?);
    let pem =
        std::fs::read(&key_path).with_context(|| format!("reading {}", key_path.display()))?;
    let key = SigningKey::from_pem(field("key_id")?, field("team_id")?, &pem)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    println!("{}", key.token(now));
    Ok(())
}
