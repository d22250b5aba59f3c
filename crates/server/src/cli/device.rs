//! `ecommunity device revoke|list`

use super::args::{DeviceList, DeviceTarget};
use crate::auth::devices;
use crate::error::{Error, Result};

pub fn revoke(t: DeviceTarget) -> Result<()> {
    devices::revoke(&t.data.open()?, &t.device_id)?;
    println!("revoked device {}", t.device_id);
    Ok(())
}

pub fn list(l: DeviceList) -> Result<()> {
    let rows = devices::list(&l.data.open()?, l.username.as_deref())?;
    if l.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).map_err(|e| Error::Corrupt(e.to_string()))?
        );
        return Ok(());
    }
    println!("{:<32} {:<24} {:<8} name", "device id", "username", "state");
    for d in rows {
        println!(
            "{:<32} {:<24} {:<8} {}",
            d.id,
            d.username,
            if d.revoked { "revoked" } else { "active" },
            d.name
        );
    }
    Ok(())
}
