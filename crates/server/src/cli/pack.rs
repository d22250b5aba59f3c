//! `ecommunity pack publish|keygen`

use super::args::{PackKeygen, PackPublish, PackSign};
use crate::error::Result;
use crate::packs;

pub fn publish(p: PackPublish) -> Result<()> {
    let data = p.data.dir()?;
    let mut conn = p.data.open()?;
    let release = packs::publish(&mut conn, data, &p.key, &p.pack_dir)?;
    super::audit_cli(
        &conn,
        crate::audit::action::PACK_PUBLISH,
        Some(&release.version),
        serde_json::json!({"sha256": release.sha256, "size": release.size, "key_id": release.key_id}),
    )?;
    println!(
        "published content pack {} ({} bytes, sha256 {}, key {})",
        release.version, release.size, release.sha256, release.key_id
    );
    Ok(())
}

pub fn keygen(k: PackKeygen) -> Result<()> {
    let public = packs::keygen(&k.out)?;
    println!(
        "wrote the private key to {} — keep it offline; never commit it",
        k.out.display()
    );
    println!(
        "public key (hex, for the app's trusted keys): {}",
        stopover_protocol::files::hex(public.as_bytes())
    );
    Ok(())
}

pub fn sign(s: PackSign) -> Result<()> {
    let release = packs::signed::sign_to_file(&s.key, &s.pack_dir, &s.out)?;
    println!(
        "signed content pack {} ({} bytes, sha256 {}, key {}) into {}: publish it from the console's Content page",
        release.version,
        release.size,
        release.sha256,
        release.key_id,
        s.out.display()
    );
    Ok(())
}
