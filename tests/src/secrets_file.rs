//! A file-backed [`SecretStore`] for test client processes that get killed and restarted
//! (the real keyring is tested on its own, in the desktop session). Never used by the app.

use std::path::PathBuf;

use stopover_core::secrets::SecretStore;

pub struct FileSecrets {
    dir: PathBuf,
}

impl FileSecrets {
    pub fn new(dir: impl Into<PathBuf>) -> FileSecrets {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).expect("secrets folder");
        FileSecrets { dir }
    }

    fn path(&self, key: &str) -> PathBuf {
        let safe: String = key
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        self.dir.join(safe)
    }
}

impl SecretStore for FileSecrets {
    fn get(&self, key: &str) -> stopover_core::Result<Option<String>> {
        Ok(std::fs::read_to_string(self.path(key)).ok())
    }

    fn set(&self, key: &str, value: &str) -> stopover_core::Result<()> {
        let tmp = self.path(&format!("{key}.tmp"));
        std::fs::write(&tmp, value)
            .and_then(|_| std::fs::rename(&tmp, self.path(key)))
            .map_err(|e| stopover_core::Error::internal(format!("test secret store: {e}")))
    }

    fn delete(&self, key: &str) -> stopover_core::Result<()> {
        let _ = std::fs::remove_file(self.path(key));
        Ok(())
    }
}
