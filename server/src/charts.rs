//! Charts drawn on the server with `plotters` into SVG, so the dashboard
//! ships no charting code to the browser and the picture is identical for
//! every viewer (and for screenshots in tests).

use chrono::{DateTime, Utc};
use plotters::prelude::*;
use shared::api::AlertBucket;

const WIDTH: u32 = 960;
const HEIGHT: u32 = 300;
const ALLOW: RGBColor = RGBColor(100, 116, 139);
const REDACT: RGBColor = RGBColor(217, 119, 6);
const BLOCK: RGBColor = RGBColor(220, 38, 38);

/// The three actions in drawing order (bottom of the stack first).
const SERIES: [(&str, RGBColor); 3] = [("allow", ALLOW), ("redact", REDACT), ("block", BLOCK)];

fn value(b: &AlertBucket, series: usize) -> i64 {
    match series {
        0 => b.allow,
        1 => b.redact,
        _ => b.block,
    }
}

fn label(ts: i64, bucket_secs: i64) -> String {
    let Some(t) = DateTime::<Utc>::from_timestamp(ts, 0) else {
        return String::new();
    };
    if bucket_secs < 86_400 {
        if bucket_secs >= 3600 * 6 {
            t.format("%b %d %H:%M").to_string()
        } else {
            t.format("%H:%M").to_string()
        }
    } else {
        t.format("%b %d").to_string()
    }
}

/// Violations per bucket as bars: stacked by action, or (`split`) one
/// panel per action. Times are UTC.
pub fn violations_svg(
    buckets: &[AlertBucket],
    bucket_secs: i64,
    split: bool,
) -> anyhow::Result<String> {
    let mut svg = String::new();
    let height = if split { HEIGHT * 2 } else { HEIGHT };
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        if split {
            for (i, area) in root.split_evenly((3, 1)).iter().enumerate() {
                let (name, color) = SERIES[i];
                let max = buckets.iter().map(|b| value(b, i)).max().unwrap_or(0);
                draw_panel(area, buckets, bucket_secs, max, &[i], Some((name, color)))?;
            }
        } else {
            let max = buckets
                .iter()
                .map(|b| b.allow + b.redact + b.block)
                .max()
                .unwrap_or(0);
            draw_panel(&root, buckets, bucket_secs, max, &[0, 1, 2], None)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow::anyhow!("chart: {e}")
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    buckets: &[AlertBucket],
    bucket_secs: i64,
    max: i64,
    series: &[usize],
    caption: Option<(&str, RGBColor)>,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(48);
    if let Some((name, color)) = caption {
        builder.caption(name, ("sans-serif", 14).into_font().color(&color));
    }
    // Leave head room above the tallest bar; at least 1 so an empty range
    // still draws axes.
    let y_max = (max + max / 8).max(1) + 1;
    // The x axis counts buckets, so tick labels fall on bucket starts; the
    // formatter turns a whole index into that bucket's time.
    let n = buckets.len().max(1) as f64;
    let mut chart = builder
        .build_cartesian_2d(0f64..n, 0i64..y_max)
        .map_err(err)?;
    let tick = |x: &f64| -> String {
        if x.fract() != 0.0 {
            return String::new();
        }
        buckets
            .get(*x as usize)
            .map(|b| label(b.start.timestamp(), bucket_secs))
            .unwrap_or_default()
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(8)
        .y_labels(5)
        .x_label_formatter(&tick)
        .y_label_formatter(&|y| y.to_string())
        .label_style(("sans-serif", 12))
        .light_line_style(RGBColor(238, 242, 246))
        .draw()
        .map_err(err)?;
    // A small gap between bars keeps adjacent buckets distinguishable.
    let gap = 0.1;
    for &s in series {
        let (name, color) = SERIES[s];
        let bars = buckets.iter().enumerate().filter_map(|(i, b)| {
            let below: i64 = series
                .iter()
                .take_while(|&&o| o != s)
                .map(|&o| value(b, o))
                .sum();
            let v = value(b, s);
            (v > 0).then(|| {
                let x = i as f64;
                Rectangle::new(
                    [(x + gap, below), (x + 1.0 - gap, below + v)],
                    color.filled(),
                )
            })
        });
        let anno = chart.draw_series(bars).map_err(err)?;
        if caption.is_none() {
            anno.label(name).legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
            });
        }
    }
    if caption.is_none() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(198, 207, 219))
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(ts: i64, allow: i64, redact: i64, block: i64) -> AlertBucket {
        AlertBucket {
            start: DateTime::from_timestamp(ts, 0).unwrap(),
            allow,
            redact,
            block,
        }
    }

    /// The trimmed contents of every `<text>` element.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                let body = t.split_once('>')?.1;
                Some(body.split_once("</text>")?.0.trim().to_owned())
            })
            .collect()
    }

    #[test]
    fn draws_one_bar_per_nonempty_action_and_a_legend() {
        let b = vec![
            bucket(3600, 1, 2, 0),
            bucket(7200, 0, 0, 3),
            bucket(10_800, 0, 0, 0),
        ];
        let svg = violations_svg(&b, 3600, false).unwrap();
        assert!(svg.starts_with("<svg"));
        // Three non-empty segments in the data, plus three legend swatches.
        let red = svg.matches("fill=\"#DC2626\"").count();
        let amber = svg.matches("fill=\"#D97706\"").count();
        assert_eq!((red, amber), (2, 2), "{svg}");
        let labels = texts(&svg);
        for name in ["allow", "redact", "block"] {
            assert!(
                labels.iter().any(|l| l == name),
                "legend {name}: {labels:?}"
            );
        }
        // Hourly buckets are labelled with times of day.
        assert!(labels.iter().any(|l| l == "01:00"), "{labels:?}");
    }

    #[test]
    fn split_mode_draws_three_panels_and_an_empty_range_still_renders() {
        let b = vec![bucket(0, 0, 0, 0)];
        let svg = violations_svg(&b, 60, true).unwrap();
        let labels = texts(&svg);
        for name in ["allow", "redact", "block"] {
            assert!(
                labels.iter().any(|l| l == name),
                "caption {name}: {labels:?}"
            );
        }
        assert!(violations_svg(&[], 60, false).unwrap().starts_with("<svg"));
    }
}
