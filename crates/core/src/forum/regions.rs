//! CMS regions of countries, for the directory's region filter. The server's region
//! categories use the same slugs. Accounts carry an ISO 3166-1 alpha-2 country code; the
//! grouping follows the CMS COP regional groups (Israel, Türkiye, Cyprus and the Caucasus in
//! Europe; the Middle East and Central Asia in Asia).

/// The region slugs, as the forum's region categories name them.
pub use stopover_protocol::forum::REGIONS;

/// The CMS region of a country code (any case), if known (the table lives in the protocol,
/// so the server's console groups countries the same way).
pub use stopover_protocol::forum::region_of;

/// A region as the reader may name it: one of [`REGIONS`], or the content pack's
/// `latin-america-caribbean`.
pub(crate) fn normalize_region(region: &str) -> Option<&'static str> {
    let r = region.trim();
    if r == "latin-america-caribbean" {
        return Some("south-central-america-caribbean");
    }
    REGIONS.iter().find(|x| **x == r).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_and_regions() {
        assert_eq!(region_of("ke"), Some("africa"));
        assert_eq!(region_of("FR"), Some("europe"));
        assert_eq!(region_of("BR"), Some("south-central-america-caribbean"));
        assert_eq!(region_of("ZZ"), None);
        assert_eq!(
            normalize_region("latin-america-caribbean"),
            Some("south-central-america-caribbean")
        );
        assert_eq!(normalize_region("atlantis"), None);
    }
}
