//! CMS regions of countries, for the directory's region filter. The server's region
//! categories use the same slugs. Accounts carry an ISO 3166-1 alpha-2 country code; the
//! grouping follows the CMS COP regional groups (Israel, Türkiye, Cyprus and the Caucasus in
//! Europe; the Middle East and Central Asia in Asia).

/// The region slugs, as the forum's region categories name them.
pub use stopover_protocol::forum::REGIONS;

const TABLE: [(&str, &str); 6] = [
    (
        "africa",
        "DZ AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR LY MG \
         MW ML MR MU MA MZ NA NE NG RW ST SN SC SL SO ZA SS SD TZ TG TN UG ZM ZW EH YT RE SH",
    ),
    (
        "asia",
        "AF BH BD BT BN KH CN IN ID IR IQ JP JO KZ KW KG LA LB MY MV MN MM NP KP OM PK PS PH QA SA \
         SG KR LK SY TJ TH TL TM AE UZ VN YE HK MO TW",
    ),
    (
        "europe",
        "AL AD AM AT AZ BY BE BA BG HR CY CZ DK EE FI FR GE DE GR HU IS IE IL IT XK LV LI LT LU MT \
         MD MC ME NL MK NO PL PT RO RU SM RS SK SI ES SE CH TR UA GB VA FO GI GL IM JE GG AX SJ",
    ),
    (
        "oceania",
        "AU FJ KI MH FM NR NZ PW PG WS SB TO TV VU CK NU AS GU NC PF NF MP PN TK WF",
    ),
    (
        "south-central-america-caribbean",
        "AG AR BS BB BZ BO BR CL CO CR CU DM DO EC SV GD GT GY HT HN JM MX NI PA PY PE KN LC VC SR \
         TT UY VE AI AW BQ VG KY CW GF GP MQ MS PR BL MF SX TC VI FK",
    ),
    ("north-america", "CA US BM PM"),
];

/// The CMS region of a country code (any case), if known.
pub fn region_of(country: &str) -> Option<&'static str> {
    let code = country.trim().to_ascii_uppercase();
    if code.len() != 2 {
        return None;
    }
    TABLE
        .iter()
        .find(|(_, codes)| codes.split_ascii_whitespace().any(|c| c == code))
        .map(|(region, _)| *region)
}

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
    fn every_country_is_in_one_region_only() {
        let mut seen = std::collections::HashSet::new();
        for (_, codes) in TABLE {
            for c in codes.split_ascii_whitespace() {
                assert_eq!(c.len(), 2, "{c}");
                assert!(seen.insert(c), "{c} is in two regions");
            }
        }
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
