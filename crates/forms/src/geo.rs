//! Coordinates typed or pasted by hand for `geopoint`, `geotrace` and `geoshape` (no map, no
//! GPS: Stopover works offline on a desktop).
//!
//! Stored as ODK stores them: a point is `lat lon [altitude [accuracy]]` in decimal degrees
//! (WGS 84) and metres, separated by spaces; the points of a trace or shape are separated by
//! `;`. What people paste is often `lat, lon` (from a map site) or one point per line, so
//! [`normalize`] also reads commas between the numbers of a point and line breaks between
//! points, and writes the stored form.

use crate::model::QuestionType;

/// Why a typed value is not valid coordinates. The app shows each in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum GeoError {
    #[error(
        "point {point}: expected a latitude and a longitude (then optionally altitude and accuracy)"
    )]
    Shape { point: usize },
    #[error("point {point}: the coordinates must be numbers in decimal degrees (e.g. 12.5 -3.25)")]
    NotNumber { point: usize },
    #[error("point {point}: the latitude must be between -90 and 90")]
    Latitude { point: usize },
    #[error("point {point}: the longitude must be between -180 and 180")]
    Longitude { point: usize },
    #[error("point {point}: the accuracy cannot be negative")]
    Accuracy { point: usize },
    #[error("a point is a single latitude and longitude; use ';' only in a line or a shape")]
    OnePoint,
    #[error("a line needs at least two points")]
    TooFewLine,
    #[error("a shape needs at least three different points")]
    TooFewShape,
    #[error("a shape must end at its first point")]
    NotClosed,
}

/// One point: latitude, longitude, then altitude and accuracy when given.
#[derive(Debug, Clone, PartialEq)]
pub struct Point(pub Vec<f64>);

fn number(s: &str) -> Option<f64> {
    let s = s.trim();
    // XPath/ODK numbers: digits, one point, a sign; no exponent, no "inf"/"nan"
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'))
    {
        return None;
    }
    s.parse().ok().filter(|n: &f64| n.is_finite())
}

fn point(text: &str, index: usize) -> Result<Point, GeoError> {
    // `lat lon`, `lat, lon`, `lat,lon alt acc`
    let parts: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|p| !p.is_empty())
        .collect();
    if !(2..=4).contains(&parts.len()) {
        return Err(GeoError::Shape { point: index });
    }
    let mut nums = Vec::with_capacity(parts.len());
    for p in parts {
        nums.push(number(p).ok_or(GeoError::NotNumber { point: index })?);
    }
    if !(-90.0..=90.0).contains(&nums[0]) {
        return Err(GeoError::Latitude { point: index });
    }
    if !(-180.0..=180.0).contains(&nums[1]) {
        return Err(GeoError::Longitude { point: index });
    }
    if nums.get(3).is_some_and(|a| *a < 0.0) {
        return Err(GeoError::Accuracy { point: index });
    }
    Ok(Point(nums))
}

/// The points of a value (`;` or line breaks between points; empty pieces ignored, so a
/// trailing `;` as some tools write it is fine).
pub fn parse(text: &str) -> Result<Vec<Point>, GeoError> {
    text.split([';', '\n', '\r'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .enumerate()
        .map(|(i, p)| point(p, i + 1))
        .collect()
}

/// Check a value for a geo question type: the points, or why they are not valid.
pub fn validate(kind: &QuestionType, text: &str) -> Result<Vec<Point>, GeoError> {
    let points = parse(text)?;
    match kind {
        QuestionType::Geopoint if points.len() != 1 => Err(if points.is_empty() {
            GeoError::Shape { point: 1 }
        } else {
            GeoError::OnePoint
        }),
        QuestionType::Geotrace if points.len() < 2 => Err(GeoError::TooFewLine),
        QuestionType::Geoshape => {
            let same = |a: &Point, b: &Point| a.0[0] == b.0[0] && a.0[1] == b.0[1];
            let mut distinct: Vec<&Point> = Vec::new();
            for p in &points {
                if !distinct.iter().any(|d| same(d, p)) {
                    distinct.push(p);
                }
            }
            if distinct.len() < 3 {
                Err(GeoError::TooFewShape)
            } else if !same(&points[0], &points[points.len() - 1]) {
                Err(GeoError::NotClosed)
            } else {
                Ok(points)
            }
        }
        _ => Ok(points),
    }
}

fn write_point(p: &Point) -> String {
    p.0.iter()
        .map(|n| crate::expr::format_number(*n))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The stored form of a typed value: numbers separated by spaces, points by `;`. A shape
/// whose last point is not its first is closed by repeating the first point (as ODK's map
/// widget does). Returns why the value is not valid when it is not.
pub fn normalize(kind: &QuestionType, text: &str) -> Result<String, GeoError> {
    let mut points = parse(text)?;
    if *kind == QuestionType::Geoshape
        && let (Some(first), Some(last)) = (points.first(), points.last())
        && (first.0[0], first.0[1]) != (last.0[0], last.0[1])
    {
        points.push(first.clone());
    }
    let out = points.iter().map(write_point).collect::<Vec<_>>().join(";");
    validate(kind, &out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use QuestionType::*;

    #[test]
    fn points_lines_and_shapes() {
        assert_eq!(normalize(&Geopoint, " 12.5, -3.25 ").unwrap(), "12.5 -3.25");
        assert_eq!(
            normalize(&Geopoint, "12.5 -3.25 100 5").unwrap(),
            "12.5 -3.25 100 5"
        );
        assert_eq!(
            validate(&Geopoint, "91 0"),
            Err(GeoError::Latitude { point: 1 })
        );
        assert_eq!(
            validate(&Geopoint, "0 181"),
            Err(GeoError::Longitude { point: 1 })
        );
        assert_eq!(
            validate(&Geopoint, "0 1 2 -1"),
            Err(GeoError::Accuracy { point: 1 })
        );
        assert_eq!(
            validate(&Geopoint, "north 1"),
            Err(GeoError::NotNumber { point: 1 })
        );
        assert_eq!(validate(&Geopoint, "12"), Err(GeoError::Shape { point: 1 }));
        assert_eq!(validate(&Geopoint, "1 2;3 4"), Err(GeoError::OnePoint));
        assert_eq!(normalize(&Geotrace, "1 2\n3, 4;").unwrap(), "1 2;3 4");
        assert_eq!(validate(&Geotrace, "1 2"), Err(GeoError::TooFewLine));
        assert_eq!(
            validate(&Geotrace, "1 2;95 4"),
            Err(GeoError::Latitude { point: 2 })
        );
        assert_eq!(
            normalize(&Geoshape, "0 0;0 1;1 1").unwrap(),
            "0 0;0 1;1 1;0 0"
        );
        assert_eq!(validate(&Geoshape, "0 0;0 1;1 1"), Err(GeoError::NotClosed));
        assert_eq!(
            validate(&Geoshape, "0 0;0 1;0 0"),
            Err(GeoError::TooFewShape)
        );
        assert!(validate(&Geoshape, "0 0;0 1;1 1;0 0").is_ok());
    }
}
