//! The console's message catalogue: every word the console shows, in English, French and
//! Spanish (`i18n/{en,fr,es}.toml`, embedded). Keys are `section.name`; `{name}` in a text is
//! replaced by [`tf`]. A test checks that the three catalogues hold the same keys and that
//! every key the code asks for exists.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::LazyLock;

/// The console's languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Fr,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Fr, Lang::Es];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::Es => "es",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            "es" => Some(Lang::Es),
            _ => None,
        }
    }

    /// The first of our languages an `Accept-Language` header names, else English.
    pub fn from_accept_language(header: &str) -> Lang {
        header
            .split(',')
            .filter_map(|part| part.split(';').next())
            .filter_map(|tag| Lang::parse(tag.trim().get(..2).unwrap_or("")))
            .next()
            .unwrap_or(Lang::En)
    }

    /// The language's own name, for the language switch.
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
            Lang::Es => "Español",
        }
    }
}

type Catalogue = HashMap<String, String>;

fn flatten(prefix: &str, table: &toml::Table, out: &mut Catalogue) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => panic!("console catalogue: `{key}` is not text: {other}"),
        }
    }
}

fn load(text: &str) -> Catalogue {
    let table: toml::Table = toml::from_str(text).expect("the console catalogue is valid TOML");
    let mut out = Catalogue::new();
    flatten("", &table, &mut out);
    out
}

static CATALOGUES: LazyLock<[Catalogue; 3]> = LazyLock::new(|| {
    [
        load(include_str!("i18n/en.toml")),
        load(include_str!("i18n/fr.toml")),
        load(include_str!("i18n/es.toml")),
    ]
});

fn catalogue(lang: Lang) -> &'static Catalogue {
    &CATALOGUES[match lang {
        Lang::En => 0,
        Lang::Fr => 1,
        Lang::Es => 2,
    }]
}

/// The text of `key` in `lang` (English when missing there; the key itself when missing
/// everywhere, which the catalogue test prevents).
pub fn t(lang: Lang, key: &str) -> &'static str {
    catalogue(lang)
        .get(key)
        .or_else(|| catalogue(Lang::En).get(key))
        .map(String::as_str)
        .unwrap_or_else(|| {
            tracing::warn!(key, "console text missing from the catalogue");
            // Leaked once per missing key at most in practice; never in a tested build.
            Box::leak(key.to_string().into_boxed_str())
        })
}

/// True when the catalogue has `key` (for keys made from a request, e.g. a notice).
pub fn exists(key: &str) -> bool {
    catalogue(Lang::En).contains_key(key)
}

/// [`t`] with each `{name}` replaced by its value.
pub fn tf(lang: Lang, key: &str, args: &[(&str, &dyn Display)]) -> String {
    let mut text = t(lang, key).to_string();
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), &value.to_string());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(lang: Lang) -> BTreeSet<&'static str> {
        catalogue(lang).keys().map(String::as_str).collect()
    }

    #[test]
    fn the_three_catalogues_hold_the_same_keys_and_no_empty_text() {
        let en = keys(Lang::En);
        for lang in [Lang::Fr, Lang::Es] {
            let other = keys(lang);
            let missing: Vec<_> = en.difference(&other).collect();
            let extra: Vec<_> = other.difference(&en).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{}: missing {missing:?}, extra {extra:?}",
                lang.code()
            );
            for (k, v) in catalogue(lang) {
                assert!(!v.trim().is_empty(), "{}: `{k}` is empty", lang.code());
                // the same placeholders in every language
                let names = |s: &str| -> BTreeSet<String> {
                    s.split('{')
                        .skip(1)
                        .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
                        .collect()
                };
                assert_eq!(
                    names(v),
                    names(&catalogue(Lang::En)[k]),
                    "{}: `{k}` placeholders",
                    lang.code()
                );
            }
        }
    }

    /// Every `t(lang, "key")` / `tf(lang, "key", …)` in the console's and the charts' code
    /// names a key of the catalogue (keys made at run time are checked where they are made).
    #[test]
    fn every_key_the_code_uses_exists() {
        let en = keys(Lang::En);
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut files = Vec::new();
        for dir in ["console", "console/pages", "charts", "monitoring"] {
            for entry in std::fs::read_dir(format!("{root}/{dir}")).unwrap() {
                let path = entry.unwrap().path();
                // this file's own examples are not uses
                if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("i18n.rs") {
                    files.push(path);
                }
            }
        }
        let mut used = 0;
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for call in ["t(l, \"", "tf(l, \"", "t(lang, \"", "tf(lang, \""] {
                for part in text.split(call).skip(1) {
                    let key = part.split('"').next().unwrap();
                    used += 1;
                    assert!(
                        en.contains(key),
                        "{}: `{key}` is not in the catalogue",
                        file.display()
                    );
                }
            }
        }
        assert!(used > 100, "only {used} keys found: is the scan broken?");
    }

    #[test]
    fn languages_from_headers_and_placeholders() {
        assert_eq!(Lang::from_accept_language("fr-CH, fr;q=0.9"), Lang::Fr);
        assert_eq!(Lang::from_accept_language("de, es;q=0.5"), Lang::Es);
        assert_eq!(Lang::from_accept_language("de"), Lang::En);
        assert_eq!(
            tf(Lang::En, "done.approved", &[("who", &"amina")]),
            "amina is approved."
        );
    }
}
