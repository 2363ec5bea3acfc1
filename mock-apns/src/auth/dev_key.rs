//! The development key: generated on first start, kept in the state directory, registered
//! automatically so the banner's curl works at once.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::auth::keys::SigningKey;
use crate::error::Error;
use crate::state_dir;

/// Team id of a freshly generated development key: obviously not a real team.
pub const DEV_TEAM_ID: &str = "DEVTEAM001";
const DEV_KEY_FILE: &str = "dev-key.json";

/// What `dev-key.json` in the state directory says.
#[derive(Debug, Serialize, Deserialize)]
struct DevKeyFile {
    key_id: String,
    team_id: String,
    file: String,
}

pub(crate) fn load_or_generate_dev_key(dir: &Path) -> Result<(SigningKey, PathBuf), Error> {
    let meta_path = dir.join(DEV_KEY_FILE);
    if let Ok(text) = std::fs::read_to_string(&meta_path) {
        let meta: DevKeyFile = serde_json::from_str(&text)
            .map_err(|e| Error::key(&meta_path.display().to_string(), e.to_string()))?;
        let path = dir.join(&meta.file);
        let pem = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        return Ok((
            SigningKey::from_pem(&meta.key_id, &meta.team_id, &pem)?,
            path,
        ));
    }
    state_dir::ensure_dir(dir)?;
    let key = SigningKey::generate(DEV_TEAM_ID)?;
    let path = key.write_p8(dir)?;
    let meta = DevKeyFile {
        key_id: key.key_id().to_owned(),
        team_id: key.team_id().to_owned(),
        file: format!("AuthKey_{}.p8", key.key_id()),
    };
    let json = serde_json::to_string_pretty(&meta).unwrap_or_default();
    state_dir::write_public(&meta_path, json.as_bytes())?;
    Ok((key, path))
}
