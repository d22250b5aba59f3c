//! Charts for the console, drawn on the server: a [`Chart`] (categories × series of numbers)
//! becomes an accessible SVG ([`svg`]: a title and a description the screen reader reads, a
//! tooltip on every bar and point, presentation attributes only — no inline style, so the
//! console's strict CSP holds), a PNG ([`png`], rasterised with resvg and the bundled DejaVu
//! Sans), a CSV, and the HTML table the page shows beside the picture.

pub mod png;
pub mod svg;

/// How the numbers are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One row per category, a horizontal bar per series.
    Bars,
    /// One point per category along the x axis (e.g. days), a line per series.
    Lines,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    /// One value per category; `None` where there is nothing to show.
    pub values: Vec<Option<f64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Stable id, used in file names and element ids (`needs-by-region`).
    pub id: String,
    pub title: String,
    /// What the chart shows, in a sentence (the SVG's `<desc>`).
    pub description: String,
    pub kind: Kind,
    /// The header of the categories' column in the table and the CSV.
    pub category_header: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    /// What the values count, e.g. "countries".
    pub value_label: String,
    /// Values are whole numbers (counts): axis ticks and labels without decimals.
    pub integers: bool,
    /// The top of the value axis when it is fixed (e.g. 4 for a 1–4 scale).
    pub max: Option<f64>,
    /// Said under the chart (what is left out and why).
    pub notes: Vec<String>,
}

impl Chart {
    pub fn is_empty(&self) -> bool {
        self.categories.is_empty()
            || self.series.is_empty()
            || self
                .series
                .iter()
                .all(|s| s.values.iter().all(Option::is_none))
    }

    /// A value as written in labels, tables and CSV.
    pub fn format(&self, v: f64) -> String {
        if self.integers {
            format!("{}", v.round() as i64)
        } else {
            let s = format!("{v:.2}");
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        }
    }

    /// The chart as CSV: a header row (categories' header, then each series), a row per
    /// category; empty cells where there is no value.
    pub fn csv(&self) -> String {
        let mut out = String::new();
        let mut header = vec![csv_cell(&self.category_header)];
        header.extend(self.series.iter().map(|s| csv_cell(&s.name)));
        out.push_str(&header.join(","));
        out.push_str("\r\n");
        for (i, c) in self.categories.iter().enumerate() {
            let mut row = vec![csv_cell(c)];
            for s in &self.series {
                row.push(
                    s.values
                        .get(i)
                        .copied()
                        .flatten()
                        .map(|v| self.format(v))
                        .unwrap_or_default(),
                );
            }
            out.push_str(&row.join(","));
            out.push_str("\r\n");
        }
        out
    }
}

/// One CSV cell (RFC 4180), with cells a spreadsheet would run as a formula made inert.
pub fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Chart {
        Chart {
            id: "needs-by-region".into(),
            title: "Needs by topic & region".into(),
            description: "How many countries need support, by topic and region.".into(),
            kind: Kind::Bars,
            category_header: "Topic".into(),
            categories: vec!["National reporting".into(), "Finances, budgets".into()],
            series: vec![
                Series {
                    name: "Africa (3)".into(),
                    values: vec![Some(2.0), Some(1.0)],
                },
                Series {
                    name: "Asia (4)".into(),
                    values: vec![None, Some(3.0)],
                },
            ],
            value_label: "countries".into(),
            integers: true,
            max: None,
            notes: vec![],
        }
    }

    #[test]
    fn csv_has_a_row_per_category() {
        assert_eq!(
            sample().csv(),
            "Topic,Africa (3),Asia (4)\r\nNational reporting,2,\r\n\"Finances, budgets\",1,3\r\n"
        );
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
