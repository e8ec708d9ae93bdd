//! The build timeline: a Gantt chart, one row per `--jobs` slot, each build drawn as its
//! wait for a slot (a thin grey bar under the row) and its run (a bar, red when it failed),
//! as inline SVG with presentation attributes only (`fill=`, `x=`, `width=`): Jenkins' HTML
//! Publisher policy (`default-src 'none'; style-src 'self'`) refuses `style=` attributes
//! and `data:` images, but not attributes of SVG shapes.

use std::cmp::Ordering;

use super::escape::Html;
use crate::report::Outcome;
use crate::report::view::{ReportView, duration_text};

/// One build as the chart draws it; times in seconds since the chart's start.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bar {
    pub slot: usize,
    pub queued: f64,
    pub started: f64,
    pub finished: f64,
    pub label: String,
    pub failed: bool,
}

impl Bar {
    pub(crate) fn ran(&self) -> f64 {
        (self.finished - self.started).max(0.0)
    }
    fn waited(&self) -> f64 {
        (self.started - self.queued).max(0.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Timeline {
    pub bars: Vec<Bar>,
    pub slots: usize,
    /// Seconds from the chart's start to its end (the run's wall time when known).
    pub span: f64,
}

/// The builds of a report (a pure wheel's build serves several jobs: drawn once).
pub(crate) fn timeline(report: &ReportView) -> Option<Timeline> {
    let mut builds = Vec::new();
    for job in &report.jobs {
        let Some(schedule) = job.build.as_ref().and_then(|b| b.schedule) else {
            continue;
        };
        if builds.iter().any(|(s, _)| *s == schedule) {
            continue;
        }
        let failed = job.outcome == Some(Outcome::Failed);
        let interpreter = job
            .build
            .as_ref()
            .and_then(|b| b.interpreter.as_ref())
            .map_or(job.interpreter.as_str(), |i| i.label.as_str());
        builds.push((
            schedule,
            (format!("{} ({interpreter})", job.label()), failed),
        ));
    }
    if builds.is_empty() {
        return None;
    }
    let first = builds
        .iter()
        .map(|(s, _)| s.queued)
        .fold(f64::INFINITY, f64::min);
    let last = builds
        .iter()
        .map(|(s, _)| s.finished)
        .fold(f64::NEG_INFINITY, f64::max);
    let (start, end) = match &report.run {
        Some(run) => (run.started.min(first), run.finished.max(last)),
        None => (first, last),
    };
    let slots = builds
        .iter()
        .map(|(s, _)| s.slot + 1)
        .chain(report.run.as_ref().and_then(|r| r.build_slots))
        .max()
        .unwrap_or(1);
    let bars = builds
        .into_iter()
        .map(|(s, (label, failed))| Bar {
            slot: s.slot,
            queued: s.queued - start,
            started: s.started - start,
            finished: s.finished - start,
            label,
            failed,
        })
        .collect();
    Some(Timeline {
        bars,
        slots,
        span: (end - start).max(0.001),
    })
}

impl Timeline {
    pub(crate) fn longest(&self) -> Option<&Bar> {
        self.bars
            .iter()
            .max_by(|a, b| a.ran().partial_cmp(&b.ran()).unwrap_or(Ordering::Equal))
    }

    /// Seconds of the span during which at least one build ran.
    pub(crate) fn busy(&self) -> f64 {
        let mut spans: Vec<(f64, f64)> =
            self.bars.iter().map(|b| (b.started, b.finished)).collect();
        spans.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal));
        let (mut total, mut reach) = (0.0, f64::NEG_INFINITY);
        for (from, to) in spans {
            let from = from.max(reach);
            if to > from {
                total += to - from;
                reach = to;
            }
        }
        total
    }
}

const WIDTH: f64 = 1000.0;
const LEFT: f64 = 64.0;
const TOP: f64 = 26.0;
const ROW: f64 = 30.0;
const RUN_COLOUR: &str = "#2f6f4f";
const FAILED_COLOUR: &str = "#b3261e";
const WAIT_COLOUR: &str = "#9aa0a6";

pub(crate) fn render(html: &mut Html, timeline: &Timeline) {
    let height = TOP + ROW * timeline.slots as f64 + 4.0;
    let scale = (WIDTH - LEFT - 8.0) / timeline.span;
    let x = |t: f64| LEFT + t * scale;
    let view_box = format!("0 0 {WIDTH} {height}");
    let label = format!(
        "Build timeline: {} builds in {} slots",
        timeline.bars.len(),
        timeline.slots
    );
    html.open(
        "svg",
        &[
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("class", "timeline"),
            ("viewBox", &view_box),
            ("width", "100%"),
            ("role", "img"),
            ("aria-label", &label),
            ("font-family", "sans-serif"),
            ("font-size", "11"),
        ],
    );
    // Time axis: about eight ticks at a round step.
    let step = tick_step(timeline.span);
    let mut tick = 0.0;
    while tick <= timeline.span + 1e-9 {
        let tx = num(x(tick));
        html.empty(
            "line",
            &[
                ("x1", &tx),
                ("x2", &tx),
                ("y1", &num(TOP - 4.0)),
                ("y2", &num(height - 4.0)),
                ("stroke", "#d0d4d9"),
                ("stroke-width", "1"),
            ],
        );
        html.element(
            "text",
            &[
                ("x", &tx),
                ("y", "14"),
                ("text-anchor", "middle"),
                ("fill", "#444"),
            ],
            &duration_text(tick),
        );
        tick += step;
    }
    for slot in 0..timeline.slots {
        let y = TOP + ROW * slot as f64;
        html.element(
            "text",
            &[("x", "4"), ("y", &num(y + 15.0)), ("fill", "#444")],
            &format!("slot {}", slot + 1),
        );
    }
    let longest = timeline.longest().map(|b| (b.slot, b.started.to_bits()));
    for bar in &timeline.bars {
        let y = TOP + ROW * bar.slot as f64;
        let title = format!(
            "{}: waited {}, ran {}{}",
            bar.label,
            duration_text(bar.waited()),
            duration_text(bar.ran()),
            if bar.failed { " (failed)" } else { "" }
        );
        if bar.waited() > 0.0 {
            html.open(
                "rect",
                &[
                    ("class", "wait"),
                    ("x", &num(x(bar.queued))),
                    ("y", &num(y + 21.0)),
                    ("width", &num((bar.waited() * scale).max(1.0))),
                    ("height", "4"),
                    ("fill", WAIT_COLOUR),
                    ("fill-opacity", "0.7"),
                ],
            );
            html.element(
                "title",
                &[],
                &format!("{}: waited {}", bar.label, duration_text(bar.waited())),
            );
            html.close("rect");
        }
        let width = (bar.ran() * scale).max(2.0);
        let is_longest = longest == Some((bar.slot, bar.started.to_bits()));
        let colour = if bar.failed {
            FAILED_COLOUR
        } else {
            RUN_COLOUR
        };
        let mut attrs: Vec<(&'static str, &str)> = vec![
            ("class", if bar.failed { "run failed" } else { "run" }),
            ("fill", colour),
            ("rx", "2"),
        ];
        let (bx, by, bw) = (num(x(bar.started)), num(y + 3.0), num(width));
        attrs.extend([
            ("x", bx.as_str()),
            ("y", by.as_str()),
            ("width", bw.as_str()),
            ("height", "16"),
        ]);
        if is_longest {
            attrs.extend([("stroke", "#111"), ("stroke-width", "2")]);
        }
        html.open("rect", &attrs);
        html.element("title", &[], &title);
        html.close("rect");
        // The label inside the bar when it fits (about 6.5 units a character at size 11).
        let fits = ((width - 8.0) / 6.5).floor() as usize;
        if fits >= 4 {
            html.element(
                "text",
                &[
                    ("x", &num(x(bar.started) + 4.0)),
                    ("y", &num(y + 15.0)),
                    ("fill", "#fff"),
                    ("pointer-events", "none"),
                ],
                &truncate(&bar.label, fits),
            );
        }
    }
    html.close("svg");
}

/// A round step giving at most about eight ticks.
fn tick_step(span: f64) -> f64 {
    const STEPS: [f64; 16] = [
        0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0,
        3600.0,
    ];
    STEPS
        .into_iter()
        .find(|s| span / s <= 8.0)
        .unwrap_or_else(|| (span / 8.0 / 3600.0).ceil() * 3600.0)
}

fn truncate(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_string();
    }
    let mut out: String = text.chars().take(chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A coordinate, to a tenth.
fn num(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    format!("{rounded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(slot: usize, started: f64, finished: f64) -> Bar {
        Bar {
            slot,
            queued: started - 1.0,
            started,
            finished,
            label: format!("b{slot}"),
            failed: false,
        }
    }

    #[test]
    fn busy_time_counts_overlapping_builds_once() {
        let timeline = Timeline {
            bars: vec![bar(0, 1.0, 5.0), bar(1, 3.0, 6.0), bar(0, 9.0, 10.0)],
            slots: 2,
            span: 10.0,
        };
        assert_eq!(timeline.busy(), 6.0);
        assert_eq!(timeline.longest().map(|b| b.slot), Some(0));
    }

    #[test]
    fn ticks_are_round_and_few() {
        assert_eq!(tick_step(7.0), 1.0);
        assert_eq!(tick_step(95.0), 15.0);
        assert_eq!(tick_step(3.0 * 3600.0), 1800.0);
        assert_eq!(truncate("ww-no-header 1.0", 6), "ww-no…");
    }
}
