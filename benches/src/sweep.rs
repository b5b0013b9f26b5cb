//! `braid bench --sweep`: throughput across banking-thread counts and contention, and an SVG
//! plot of it, so the scheduler's behaviour under contention can be seen at a glance.
//!
//! Each point is one full [`run`](crate::run) with the base configuration and one
//! `(threads, hot_ratio)` pair; every point uses the same seed, so runs differ only in the
//! knobs swept. With `--simulate-threads`, the runs of the first thread count also simulate
//! the scheduler at each hot ratio (the simulation does not depend on the real thread
//! count), and the plot gains a second panel: simulated speedup against contention, next to
//! the critical-path bound.
//!
//! [`sweep_pools`] repeats the sweep for several pool counts of a pooled workload (1, 4, 16,
//! 64 and 1,000 by default): contention between pools and on one hot pool are the two axes
//! along which a scheduler funnels work onto one thread.

use std::path::Path;

use plotters::prelude::*;

use crate::{BenchConfig, BenchError, BenchReport, Progress, run};

/// Thread counts a sweep tries by default (this machine has two cores).
pub const SWEEP_THREADS_DEFAULT: [usize; 2] = [1, 2];
/// Hot ratios a sweep tries by default: from no contention to every transaction on one hot
/// account or pool.
pub const SWEEP_HOT_RATIOS_DEFAULT: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];
/// Pool counts `--sweep-pools` tries when given without values: one hot pool to nearly no
/// contention between pools.
pub const SWEEP_POOLS_DEFAULT: [usize; 5] = [1, 4, 16, 64, 1_000];
/// Plot size in pixels, one panel.
const PLOT_SIZE_PX: (u32, u32) = (900, 560);
/// Plot size in pixels with the simulation panel beside the measured one.
const PLOT_WITH_SIMULATION_SIZE_PX: (u32, u32) = (1700, 560);

/// One measured point of a sweep.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SweepPoint {
    /// Pools of the workload (the base configuration's for a plain sweep).
    pub pools: usize,
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
    for (position, &thread_count) in threads.iter().enumerate() {
        for &hot_ratio in hot_ratios {
            let config = BenchConfig {
                threads: thread_count,
                hot_ratio,
                serial: false,
                simulate_threads: if position == 0 {
                    base.simulate_threads.clone()
                } else {
                    Vec::new()
                },
                ..base.clone()
            };
            let report = run(&config, progress)?;
            points.push(SweepPoint {
                pools: base.pools,
                threads: thread_count,
                hot_ratio,
                report,
            });
        }
    }
    Ok(points)
}

/// Runs [`sweep`] once per pool count in `pools`, in that order.
pub fn sweep_pools(
    base: &BenchConfig,
    pools: &[usize],
    threads: &[usize],
    hot_ratios: &[f64],
    progress: Progress<'_>,
) -> Result<Vec<SweepPoint>, BenchError> {
    let mut points = Vec::new();
    for &pool_count in pools {
        let config = BenchConfig {
            pools: pool_count,
            ..base.clone()
        };
        points.extend(sweep(&config, threads, hot_ratios, progress)?);
    }
    Ok(points)
}

/// Draws TPS against hot ratio, one line per thread count, into an SVG file.
pub fn plot_svg(points: &[SweepPoint], path: &Path, title: &str) -> Result<(), BenchError> {
    let plot_error =
        |error: &dyn std::fmt::Display| BenchError::Plot(format!("{}: {error}", path.display()));
    let simulated = points
        .iter()
        .any(|point| !point.report.simulated.is_empty());
    let size = if simulated {
        PLOT_WITH_SIMULATION_SIZE_PX
    } else {
        PLOT_SIZE_PX
    };
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(&e))?;
    if simulated {
        let (left, right) = root.split_horizontally(size.0 / 2);
        draw_measured(&left, points, title).map_err(|e| plot_error(&e))?;
        draw_simulated(&right, points).map_err(|e| plot_error(&e))?;
    } else {
        draw_measured(&root, points, title).map_err(|e| plot_error(&e))?;
    }
    root.present().map_err(|e| plot_error(&e))?;
    Ok(())
}

/// A drawing error, as text.
type DrawResult = Result<(), String>;

/// A chart over the hot ratio (0 to 1), as both panels draw it.
type HotRatioChart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

fn plot_error(error: &dyn std::fmt::Display) -> String {
    error.to_string()
}

/// The hot-ratio axis from 0 to 1 against `y_desc` up to `y_max` (with headroom), its mesh
/// drawn: `caption` is (text, font size), `y_label_area` the room for y labels in pixels.
fn hot_ratio_chart<'a, 'b>(
    area: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    caption: (&str, u32),
    y_label_area: u32,
    y_max: f64,
    y_desc: &str,
    y_format: Option<&dyn Fn(&f64) -> String>,
) -> Result<HotRatioChart<'a, 'b>, String> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption.0, ("sans-serif", caption.1))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(y_label_area)
        .build_cartesian_2d(0.0_f64..1.0_f64, 0.0_f64..y_max * 1.1)
        .map_err(|e| plot_error(&e))?;
    let mut mesh = chart.configure_mesh();
    mesh.x_desc("share of transactions on one hot account (--hot-ratio)")
        .y_desc(y_desc);
    if let Some(format) = y_format {
        mesh.y_label_formatter(format);
    }
    mesh.draw().map_err(|e| plot_error(&e))?;
    Ok(chart)
}

/// The series labels, boxed, as both panels show them.
fn draw_legend<'a, 'b: 'a>(chart: &mut HotRatioChart<'a, 'b>) -> DrawResult {
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .draw()
        .map_err(|e| plot_error(&e))
}

/// Measured TPS against hot ratio, one line per real thread count.
fn draw_measured(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    points: &[SweepPoint],
    title: &str,
) -> DrawResult {
    let tps_max = points
        .iter()
        .map(|point| point.report.tps)
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let mut chart = hot_ratio_chart(
        area,
        (title, 22),
        80,
        tps_max,
        "committed transactions per second",
        Some(&|tps| format!("{:.0}k", tps / 1_000.0)),
    )?;
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
    draw_legend(&mut chart)
}

/// Simulated speedup against hot ratio, one solid line per simulated thread count and a
/// dashed line for its critical-path bound.
fn draw_simulated(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    points: &[SweepPoint],
) -> DrawResult {
    let simulated: Vec<&SweepPoint> = points
        .iter()
        .filter(|point| !point.report.simulated.is_empty())
        .collect();
    let speedup_max = simulated
        .iter()
        .flat_map(|point| point.report.simulated.iter())
        .map(|sim| sim.bound.max(sim.speedup))
        .fold(1.0_f64, f64::max);
    let mut chart = hot_ratio_chart(
        area,
        (
            "scheduler simulated on measured costs (--simulate-threads)",
            20,
        ),
        60,
        speedup_max,
        "makespan speedup over one thread",
        None,
    )?;
    let mut thread_counts: Vec<usize> = simulated
        .iter()
        .flat_map(|point| point.report.simulated.iter().map(|sim| sim.threads))
        .collect();
    thread_counts.sort_unstable();
    thread_counts.dedup();
    for (index, &threads) in thread_counts.iter().enumerate() {
        let color = Palette99::pick(index.saturating_add(2)).to_rgba();
        let at = |bound: bool| -> Vec<(f64, f64)> {
            simulated
                .iter()
                .filter_map(|point| {
                    let sim = point
                        .report
                        .simulated
                        .iter()
                        .find(|sim| sim.threads == threads)?;
                    Some((point.hot_ratio, if bound { sim.bound } else { sim.speedup }))
                })
                .collect()
        };
        chart
            .draw_series(LineSeries::new(at(false), color.stroke_width(2)))
            .map_err(|e| plot_error(&e))?
            .label(format!("{threads} simulated threads (dashed: bound)"))
            .legend(move |(x, y)| {
                PathElement::new(
                    vec![(x, y), (x.saturating_add(18), y)],
                    color.stroke_width(2),
                )
            });
        chart
            .draw_series(DashedLineSeries::new(at(true), 6, 4, color.stroke_width(1)))
            .map_err(|e| plot_error(&e))?;
    }
    draw_legend(&mut chart)
}
