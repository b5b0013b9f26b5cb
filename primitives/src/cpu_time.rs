//! The calling thread's CPU time: what per-stage budgets are measured in, because wall time
//! on a shared machine counts the time a thread waited for a core.
//!
//! One reading is a `clock_gettime(CLOCK_THREAD_CPUTIME_ID)` call (a few hundred
//! nanoseconds), so callers read it around a batch or a chunk, never around one
//! transaction.

/// CPU time the calling thread has used, in nanoseconds (0 if the clock is unavailable).
pub fn thread_cpu_ns() -> u64 {
    clock_ns(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time the whole process has used (every thread), in nanoseconds.
pub fn process_cpu_ns() -> u64 {
    clock_ns(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the duration of the call, and both
    // CPU-time clocks exist on every Linux kernel.
    if unsafe { libc::clock_gettime(clock, &mut now) } != 0 {
        return 0;
    }
    let seconds = u64::try_from(now.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(now.tv_nsec).unwrap_or(0);
    seconds.saturating_mul(1_000_000_000).saturating_add(nanos)
}

/// Measures the calling thread's CPU time from creation to [`CpuTimer::elapsed_ns`].
#[derive(Debug, Clone, Copy)]
pub struct CpuTimer {
    started_ns: u64,
}

impl CpuTimer {
    /// Starts measuring now.
    pub fn start() -> Self {
        Self {
            started_ns: thread_cpu_ns(),
        }
    }

    /// CPU nanoseconds this thread used since [`CpuTimer::start`].
    pub fn elapsed_ns(&self) -> u64 {
        thread_cpu_ns().saturating_sub(self.started_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_work_shows_as_cpu_time_and_sleeping_does_not() {
        let timer = CpuTimer::start();
        let mut x = 1u64;
        for i in 0..20_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
        let busy = timer.elapsed_ns();
        assert!(busy > 1_000_000, "20M multiply-adds took {busy} ns of CPU");
        let timer = CpuTimer::start();
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(timer.elapsed_ns() < 20_000_000, "sleeping used CPU");
        assert!(process_cpu_ns() >= busy);
    }
}
