//! `ecommunity device revoke|list`

use super::args::{DeviceList, DeviceTarget};
use crate::auth::devices;
use crate::error::{Error, Result};

pub fn revoke(t: DeviceTarget) -> Result<()> {
    let mut conn = t.data.open()?;
    let tx = conn.transaction()?;
    devices::revoke(&tx, &t.device_id)?;
    super::audit_cli(
        &tx,
        crate::audit::action::DEVICE_REVOKE,
        Some(&t.device_id),
        serde_json::json!({}),
    )?;
    tx.commit()?;
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
