//! A [`Chart`] as SVG: standalone (a file to download, or the PNG's source) and the same
//! markup inline in the console's pages. Accessible: `role="img"`, a `<title>` and `<desc>`
//! named by `aria-labelledby`, and a `<title>` (tooltip) on every bar and point giving its
//! series, category and value; the page also shows the numbers as a table.

use std::fmt::Write as _;

use super::{Chart, Kind};

/// Colours that stay apart for colour-blind readers (Okabe and Ito).
pub const PALETTE: [&str; 7] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000",
];

const WIDTH: f64 = 820.0;
const FONT: &str = "DejaVu Sans, sans-serif";
/// Characters per line of a category label before it wraps (two lines at most).
const LABEL_CHARS: usize = 34;

/// Escapes text for XML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

/// A label cut into at most two lines of about [`LABEL_CHARS`] characters, at spaces.
fn wrap(label: &str) -> Vec<String> {
    let mut lines: Vec<String> = vec![String::new()];
    for word in label.split_whitespace() {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > LABEL_CHARS {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    if lines.len() > 2 {
        let rest = lines.split_off(1).join(" ");
        let mut second: String = rest.chars().take(LABEL_CHARS - 1).collect();
        if rest.chars().count() > LABEL_CHARS - 1 {
            second.push('…');
        }
        lines.push(second);
    }
    lines
}

/// A round top for the value axis and its step (1, 2 or 5 × a power of ten).
fn axis(max: f64, integers: bool) -> (f64, f64) {
    let max = if max <= 0.0 { 1.0 } else { max };
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let mut step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(magnitude * 10.0);
    if integers {
        step = step.max(1.0).round();
    }
    ((max / step).ceil() * step, step)
}

fn legend(chart: &Chart, out: &mut String, top: f64) -> f64 {
    let (mut x, mut y) = (20.0, top);
    for (i, s) in chart.series.iter().enumerate() {
        let w = 26.0 + s.name.chars().count() as f64 * 7.0;
        if x + w > WIDTH - 20.0 {
            x = 20.0;
            y += 20.0;
        }
        let _ = write!(
            out,
            r#"<rect x="{x}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            y - 10.0,
            PALETTE[i % PALETTE.len()],
            x + 17.0,
            y,
            esc(&s.name)
        );
        x += w;
    }
    y + 14.0
}

fn notes(chart: &Chart, out: &mut String, mut y: f64) -> f64 {
    for note in &chart.notes {
        y += 18.0;
        let _ = write!(
            out,
            r##"<text x="20" y="{y}" fill="#444444">{}</text>"##,
            esc(note)
        );
    }
    y
}

/// The chart as a standalone SVG document, its notes (what is left out and why) drawn under
/// it: a downloaded file says what the page says beside it.
pub fn render(chart: &Chart) -> String {
    render_with(chart, true)
}

/// The chart for a page that shows its notes itself.
pub fn render_inline(chart: &Chart) -> String {
    render_with(chart, false)
}

fn render_with(chart: &Chart, with_notes: bool) -> String {
    let mut body = String::new();
    let id = esc(&chart.id);
    let _ = write!(
        body,
        r#"<text x="20" y="28" font-size="17" font-weight="bold">{}</text>"#,
        esc(&chart.title)
    );
    let top = legend(chart, &mut body, 56.0) + 6.0;
    let bottom = match chart.kind {
        Kind::Bars => bars(chart, &mut body, top),
        Kind::Lines => lines(chart, &mut body, top),
    };
    let height = if with_notes {
        notes(chart, &mut body, bottom)
    } else {
        bottom
    } + 16.0;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{id}-title {id}-desc" font-family="{FONT}" font-size="12" data-testid="chart-{id}"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc><rect width="{WIDTH}" height="{height}" fill="#ffffff"/>{body}</svg>"##,
        esc(&chart.title),
        esc(&chart.description),
    )
}

fn max_value(chart: &Chart) -> f64 {
    chart.max.unwrap_or_else(|| {
        chart
            .series
            .iter()
            .flat_map(|s| s.values.iter().flatten())
            .fold(0.0, |a: f64, b| a.max(*b))
    })
}

fn bars(chart: &Chart, out: &mut String, top: f64) -> f64 {
    let left = 280.0;
    let right = WIDTH - 70.0;
    let bar_h = 15.0;
    let gap = 16.0;
    let n = chart.series.len().max(1) as f64;
    let group_h = n * bar_h + gap;
    let plot_h = group_h * chart.categories.len() as f64;
    let (top_value, step) = axis(max_value(chart), chart.integers);
    let scale = |v: f64| (right - left) * (v / top_value);
    // grid and value axis
    let mut tick = 0.0;
    while tick <= top_value + 1e-9 {
        let x = left + scale(tick);
        let _ = write!(
            out,
            r##"<line x1="{x}" y1="{top}" x2="{x}" y2="{}" stroke="#dddddd"/><text x="{x}" y="{}" text-anchor="middle" fill="#444444">{}</text>"##,
            top + plot_h,
            top + plot_h + 16.0,
            chart.format(tick)
        );
        tick += step;
    }
    let _ = write!(
        out,
        r##"<text x="{}" y="{}" text-anchor="middle" fill="#444444">{}</text>"##,
        (left + right) / 2.0,
        top + plot_h + 34.0,
        esc(&chart.value_label)
    );
    for (ci, category) in chart.categories.iter().enumerate() {
        let y0 = top + ci as f64 * group_h + gap / 2.0;
        let lines = wrap(category);
        let mid = y0 + n * bar_h / 2.0;
        let first = mid + 4.0 - (lines.len() as f64 - 1.0) * 7.0;
        let _ = write!(
            out,
            r#"<text x="{}" y="{first}" text-anchor="end">"#,
            left - 8.0
        );
        for (li, line) in lines.iter().enumerate() {
            let _ = write!(
                out,
                r#"<tspan x="{}" dy="{}">{}</tspan>"#,
                left - 8.0,
                if li == 0 { 0.0 } else { 14.0 },
                esc(line)
            );
        }
        out.push_str("</text>");
        for (si, s) in chart.series.iter().enumerate() {
            let y = y0 + si as f64 * bar_h;
            let Some(v) = s.values.get(ci).copied().flatten() else {
                continue;
            };
            let w = scale(v).max(if v > 0.0 { 1.0 } else { 0.0 });
            let shown = chart.format(v);
            let _ = write!(
                out,
                r#"<rect x="{left}" y="{y}" width="{w:.2}" height="{}" fill="{}" data-series="{}" data-category="{}" data-value="{shown}"><title>{} — {}: {shown}</title></rect><text x="{:.2}" y="{}" font-size="11">{shown}</text>"#,
                bar_h - 2.0,
                PALETTE[si % PALETTE.len()],
                esc(&s.name),
                esc(category),
                esc(&s.name),
                esc(category),
                left + w + 4.0,
                y + bar_h - 4.0,
            );
        }
    }
    let _ = write!(
        out,
        r##"<line x1="{left}" y1="{top}" x2="{left}" y2="{}" stroke="#333333"/>"##,
        top + plot_h
    );
    top + plot_h + 40.0
}

fn lines(chart: &Chart, out: &mut String, top: f64) -> f64 {
    let left = 70.0;
    let right = WIDTH - 30.0;
    let plot_h = 260.0;
    let bottom = top + plot_h;
    let (top_value, step) = axis(max_value(chart), chart.integers);
    let count = chart.categories.len();
    let x_of = |i: usize| {
        if count <= 1 {
            (left + right) / 2.0
        } else {
            left + (right - left) * i as f64 / (count - 1) as f64
        }
    };
    let y_of = |v: f64| bottom - plot_h * (v / top_value);
    let mut tick = 0.0;
    while tick <= top_value + 1e-9 {
        let y = y_of(tick);
        let _ = write!(
            out,
            r##"<line x1="{left}" y1="{y}" x2="{right}" y2="{y}" stroke="#dddddd"/><text x="{}" y="{}" text-anchor="end" fill="#444444">{}</text>"##,
            left - 6.0,
            y + 4.0,
            chart.format(tick)
        );
        tick += step;
    }
    // at most about eight labels along the x axis
    let every = count.div_ceil(8).max(1);
    for (i, c) in chart.categories.iter().enumerate() {
        if i % every == 0 || i + 1 == count {
            let _ = write!(
                out,
                r##"<text x="{}" y="{}" text-anchor="middle" fill="#444444">{}</text>"##,
                x_of(i),
                bottom + 16.0,
                esc(c)
            );
        }
    }
    let _ = write!(
        out,
        r##"<text x="16" y="{}" fill="#444444" transform="rotate(-90 16 {})" text-anchor="middle">{}</text>"##,
        top + plot_h / 2.0,
        top + plot_h / 2.0,
        esc(&chart.value_label)
    );
    for (si, s) in chart.series.iter().enumerate() {
        let colour = PALETTE[si % PALETTE.len()];
        let points: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| format!("{:.2},{:.2}", x_of(i), y_of(v))))
            .collect();
        if points.len() > 1 {
            let _ = write!(
                out,
                r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
                points.join(" ")
            );
        }
        for (i, v) in s.values.iter().enumerate() {
            let Some(v) = v else { continue };
            let shown = chart.format(*v);
            let _ = write!(
                out,
                r#"<circle cx="{:.2}" cy="{:.2}" r="4" fill="{colour}" data-series="{}" data-category="{}" data-value="{shown}"><title>{} — {}: {shown}</title></circle>"#,
                x_of(i),
                y_of(*v),
                esc(&s.name),
                esc(&chart.categories[i]),
                esc(&s.name),
                esc(&chart.categories[i]),
            );
        }
    }
    let _ = write!(
        out,
        r##"<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#333333"/>"##
    );
    bottom + 30.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::tests::sample;

    #[test]
    fn accessible_and_every_value_drawn() {
        let svg = render(&sample());
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains(
            r#"role="img" aria-labelledby="needs-by-region-title needs-by-region-desc""#
        ));
        assert!(
            svg.contains("<title id=\"needs-by-region-title\">Needs by topic &amp; region</title>")
        );
        assert!(svg.contains("<title>Africa (3) — National reporting: 2</title>"));
        assert!(svg.contains("<title>Asia (4) — Finances, budgets: 3</title>"));
        assert_eq!(
            svg.matches("<rect x=\"280\"").count(),
            3,
            "one bar per value"
        );
        assert!(
            !svg.contains("style="),
            "no inline style: the CSP forbids it"
        );
        let mut lines = sample();
        lines.kind = Kind::Lines;
        let svg = render(&lines);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("<polyline"));
    }

    #[test]
    fn axes_and_labels() {
        assert_eq!(axis(7.0, true), (8.0, 2.0));
        assert_eq!(axis(0.0, true), (1.0, 1.0));
        assert_eq!(axis(4.0, false), (4.0, 1.0));
        assert_eq!(axis(3.0, true), (3.0, 1.0));
        assert_eq!(wrap("National reporting"), ["National reporting"]);
        let long = wrap("Finances: contributions, budgets and raising resources for the work");
        assert_eq!(long.len(), 2);
        assert!(long[1].ends_with('…') || long[1].chars().count() <= LABEL_CHARS);
    }
}
