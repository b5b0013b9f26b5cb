//! `braid bench --sweep`: throughput across banking-thread counts and contention, and an SVG
//! plot of it, so the scheduler's behaviour under contention can be seen at a glance.
//!
//! Each point is one full [`run`](crate::run) with the base configuration and one
//! `(threads, hot_ratio)` pair; every point uses the same seed, so runs differ only in the
//! knobs swept.

use std::path::Path;

use plotters::prelude::*;

use crate::{BenchConfig, BenchError, BenchReport, Progress, run};

/// Thread counts a sweep tries by default (this machine has two cores).
pub const SWEEP_THREADS_DEFAULT: [usize; 2] = [1, 2];
/// Hot ratios a sweep tries by default: from no contention to every transaction on one hot
/// account or pool.
pub const SWEEP_HOT_RATIOS_DEFAULT: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];
/// Plot size in pixels.
const PLOT_SIZE_PX: (u32, u32) = (900, 560);

/// One measured point of a sweep.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SweepPoint {
    /// Banking threads.
    pub threads: usize,
    /// Share of transactions on the hot account.
    pub hot_ratio: f64,
    /// The run's report.
    pub report: BenchReport,
}

/// Runs the base configuration at every `(threads, hot_ratio)` pair, in that nesting order.
pub fn sweep(
    base: &BenchConfig,
    threads: &[usize],
    hot_ratios: &[f64],
    progress: Progress<'_>,
) -> Result<Vec<SweepPoint>, BenchError> {
    let mut points = Vec::with_capacity(threads.len().saturating_mul(hot_ratios.len()));
    for &thread_count in threads {
        for &hot_ratio in hot_ratios {
            let config = BenchConfig {
                threads: thread_count,
                hot_ratio,
                serial: false,
                ..base.clone()
            };
            let report = run(&config, progress)?;
            points.push(SweepPoint {
                threads: thread_count,
                hot_ratio,
                report,
            });
        }
    }
    Ok(points)
}

/// Draws TPS against hot ratio, one line per thread count, into an SVG file.
pub fn plot_svg(points: &[SweepPoint], path: &Path, title: &str) -> Result<(), BenchError> {
    let plot_error =
        |error: &dyn std::fmt::Display| BenchError::Plot(format!("{}: {error}", path.display()));
    let tps_max = points
        .iter()
        .map(|point| point.report.tps)
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let root = SVGBackend::new(path, PLOT_SIZE_PX).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0_f64..1.0_f64, 0.0_f64..tps_max * 1.1)
        .map_err(|e| plot_error(&e))?;
    chart
        .configure_mesh()
        .x_desc("share of transactions on one hot account (--hot-ratio)")
        .y_desc("committed transactions per second")
        .y_label_formatter(&|tps| format!("{:.0}k", tps / 1_000.0))
        .draw()
        .map_err(|e| plot_error(&e))?;
    let mut thread_counts: Vec<usize> = points.iter().map(|point| point.threads).collect();
    thread_counts.sort_unstable();
    thread_counts.dedup();
    for (index, &threads) in thread_counts.iter().enumerate() {
        let color = Palette99::pick(index).to_rgba();
        let line: Vec<(f64, f64)> = points
            .iter()
            .filter(|point| point.threads == threads)
            .map(|point| (point.hot_ratio, point.report.tps))
            .collect();
        chart
            .draw_series(LineSeries::new(line.clone(), color.stroke_width(2)))
            .map_err(|e| plot_error(&e))?
            .label(format!(
                "{threads} banking thread{}",
                if threads == 1 { "" } else { "s" }
            ))
            .legend(move |(x, y)| {
                PathElement::new(
                    vec![(x, y), (x.saturating_add(18), y)],
                    color.stroke_width(2),
                )
            });
        chart
            .draw_series(
                line.into_iter()
                    .map(|point| Circle::new(point, 4, color.filled())),
            )
            .map_err(|e| plot_error(&e))?;
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .draw()
        .map_err(|e| plot_error(&e))?;
    root.present().map_err(|e| plot_error(&e))?;
    Ok(())
}
