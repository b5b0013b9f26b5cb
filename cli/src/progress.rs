//! Progress of a long `braid bench` run on stderr: a live bar per phase on a terminal, and a
//! few plain lines otherwise (a log file gets one line per quarter of each phase, not
//! thousands of carriage returns).

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Plain-line mode prints at these quarters of a phase.
const PLAIN_STEPS: u64 = 4;

/// Shows `(phase, done, total)` updates; safe to call from many threads.
pub struct PhaseProgress {
    state: Mutex<State>,
    terminal: bool,
    enabled: bool,
}

#[derive(Default)]
struct State {
    phase: String,
    bar: Option<ProgressBar>,
    /// Plain mode: the last quarter printed for the current phase.
    printed_step: Option<u64>,
}

impl PhaseProgress {
    /// Progress on stderr when `enabled`; a bar if stderr is a terminal.
    pub fn new(enabled: bool) -> Self {
        Self {
            state: Mutex::new(State::default()),
            terminal: std::io::stderr().is_terminal(),
            enabled,
        }
    }

    /// Reports that `phase` has done `done` of `total`.
    pub fn update(&self, phase: &str, done: u64, total: u64) {
        if !self.enabled {
            return;
        }
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if state.phase != phase {
            if let Some(bar) = state.bar.take() {
                bar.finish();
            }
            state.phase = phase.to_owned();
            state.printed_step = None;
            if self.terminal {
                let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix:>10} [{bar:40}] {pos:>9}/{len:<9} {per_sec:>12} eta {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.set_prefix(phase.to_owned());
                state.bar = Some(bar);
            }
        }
        match &state.bar {
            Some(bar) => {
                bar.set_length(total);
                bar.set_position(done);
            }
            None => {
                let step = done
                    .saturating_mul(PLAIN_STEPS)
                    .checked_div(total)
                    .unwrap_or(PLAIN_STEPS);
                if state.printed_step.is_none_or(|printed| step > printed) {
                    state.printed_step = Some(step);
                    eprintln!("{phase:<10} {done:>10}/{total}");
                }
            }
        }
    }

    /// Ends the current phase's bar.
    pub fn finish(&self) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(bar) = state.bar.take() {
            bar.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_mode_prints_each_quarter_once() {
        let progress = PhaseProgress {
            state: Mutex::new(State::default()),
            terminal: false,
            enabled: true,
        };
        let mut steps = Vec::new();
        for done in 0..=1_000u64 {
            progress.update("send", done, 1_000);
            steps.push(progress.state.lock().unwrap().printed_step);
        }
        let mut printed: Vec<u64> = steps.into_iter().flatten().collect();
        printed.dedup();
        assert_eq!(printed, [0, 1, 2, 3, 4]);
        progress.update("commit", 0, 0);
        assert_eq!(
            progress.state.lock().unwrap().printed_step,
            Some(PLAIN_STEPS)
        );
    }
}
