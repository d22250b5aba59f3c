//! Rules for what an account may look like, shared by `POST /v1/accounts` and the admin CLI.
//! Each rule returns a sentence naming the field, for a 422 or a CLI usage error.

use stopover_protocol::AccountRequest;

pub const MIN_PASSWORD_CHARS: usize = 10;
const MAX_TEXT_CHARS: usize = 200;
const MAX_INSTRUMENTS: usize = 50;

pub fn username(u: &str) -> Result<(), String> {
    let ok_chars = u
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if (3..=64).contains(&u.len()) && ok_chars {
        Ok(())
    } else {
        Err("username: 3 to 64 characters of a-z, 0-9, `.`, `_`, `-`".into())
    }
}

pub fn password(p: &str) -> Result<(), String> {
    if p.chars().count() >= MIN_PASSWORD_CHARS {
        Ok(())
    } else {
        Err(format!(
            "password: at least {MIN_PASSWORD_CHARS} characters"
        ))
    }
}

pub fn country(c: &str) -> Result<(), String> {
    if c.len() == 2 && c.chars().all(|ch| ch.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err("country: two upper-case letters (ISO 3166-1 alpha-2, e.g. KE)".into())
    }
}

pub fn display_name(n: &str) -> Result<(), String> {
    let n = n.trim();
    if n.is_empty() || n.chars().count() > MAX_TEXT_CHARS || n.chars().any(char::is_control) {
        Err(format!(
            "display_name: 1 to {MAX_TEXT_CHARS} printable characters"
        ))
    } else {
        Ok(())
    }
}

pub fn email(e: &str) -> Result<(), String> {
    let shaped = e
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
    if shaped
        && e.len() <= MAX_TEXT_CHARS
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        Ok(())
    } else {
        Err("email: an address like name@example.org".into())
    }
}

pub fn instruments(list: &[String]) -> Result<(), String> {
    let each_ok = list.iter().all(|i| {
        let i = i.trim();
        !i.is_empty() && i.chars().count() <= 64 && !i.chars().any(char::is_control)
    });
    if list.len() <= MAX_INSTRUMENTS && each_ok {
        Ok(())
    } else {
        Err(format!(
            "instruments: at most {MAX_INSTRUMENTS} names of 1 to 64 characters"
        ))
    }
}

/// A device name for the device list; empty means the client did not say.
pub fn device_name(n: &str) -> Result<(), String> {
    if n.chars().count() <= MAX_TEXT_CHARS && !n.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(format!(
            "device_name: at most {MAX_TEXT_CHARS} printable characters"
        ))
    }
}

/// Checks a whole account request; the first problem found is reported.
pub fn request(r: &AccountRequest) -> Result<(), String> {
    username(&r.username)?;
    password(&r.password)?;
    display_name(&r.display_name)?;
    email(&r.email)?;
    country(&r.country)?;
    instruments(&r.instruments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> AccountRequest {
        AccountRequest {
            username: "amina.k".into(),
            password: "correct horse".into(),
            display_name: "Amina K.".into(),
            email: "amina@example.org".into(),
            country: "KE".into(),
            instruments: vec!["CMS".into(), "AEWA".into()],
        }
    }

    #[test]
    fn accepts_a_good_request() {
        assert_eq!(request(&good()), Ok(()));
    }

    #[test]
    fn usernames() {
        for ok in ["abc", "a.b_c-9", &"x".repeat(64)] {
            assert!(username(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "Amina", "a b", "ämina", "a/b", "", &"x".repeat(65)] {
            assert!(username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn each_field_names_itself() {
        type Breaker = fn(&mut AccountRequest);
        let cases: [(Breaker, &str); 7] = [
            (|r| r.password = "short".into(), "password"),
            (|r| r.password = "ninechars".into(), "password"),
            (|r| r.country = "ke".into(), "country"),
            (|r| r.country = "KEN".into(), "country"),
            (|r| r.display_name = "  ".into(), "display_name"),
            (|r| r.email = "amina.example.org".into(), "email"),
            (|r| r.instruments = vec![String::new()], "instruments"),
        ];
        for (break_it, field) in cases {
            let mut r = good();
            break_it(&mut r);
            let e = request(&r).unwrap_err();
            assert!(e.starts_with(field), "{e} should name {field}");
        }
    }

    #[test]
    fn password_length_counts_characters_not_bytes() {
        assert!(password("ääääääääää").is_ok());
        assert!(password("äääääääää").is_err());
    }
}
