//! CPU time by thread group: where a running node's CPU goes, whichever engine drives it,
//! without instrumenting a hot path. Each thread's time comes from the kernel
//! (`/proc/self/task/*/schedstat`, nanoseconds on CPU), grouped by the thread's name with
//! its index dropped (`braid-verify-3` counts as `braid-verify`). Threads that have
//! exited (the block executor's banking threads live for one block) are no longer listed;
//! their time is what the process used beyond the live threads', reported as
//! [`EXITED_GROUP`].
//!
//! Linux only: elsewhere [`thread_cpu`] says so with an error.

use std::collections::BTreeMap;

/// The group of threads that exited, whose time is no longer listed per thread.
pub const EXITED_GROUP: &str = "(exited threads)";

/// The CPU time of one group of threads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadGroupCpu {
    /// The threads' name without its index (the kernel keeps 15 bytes of a name).
    pub group: String,
    /// Live threads in the group.
    pub threads: u32,
    /// Nanoseconds on CPU since each thread started.
    pub cpu_ns: u64,
}

/// This process's CPU time by thread group, [`EXITED_GROUP`] last; the groups sum to about
/// the process's CPU time (the total is read first, so a thread that exits meanwhile is
/// counted once).
pub fn thread_cpu() -> std::io::Result<Vec<ThreadGroupCpu>> {
    let mut groups: BTreeMap<String, (u32, u64)> = BTreeMap::new();
    // The process total first: threads that exit meanwhile are then counted as exited
    // rather than twice.
    let process_ns = braid_primitives::cpu_time::process_cpu_ns();
    for task in std::fs::read_dir("/proc/self/task")? {
        let path = task?.path();
        // A thread may exit between the listing and the reads: it is then left out.
        let (Ok(name), Ok(schedstat)) = (
            std::fs::read_to_string(path.join("comm")),
            std::fs::read_to_string(path.join("schedstat")),
        ) else {
            continue;
        };
        let cpu_ns = schedstat
            .split_whitespace()
            .next()
            .and_then(|field| field.parse::<u64>().ok())
            .unwrap_or(0);
        let entry = groups.entry(group_of(name.trim_end())).or_default();
        entry.0 = entry.0.saturating_add(1);
        entry.1 = entry.1.saturating_add(cpu_ns);
    }
    let live_ns = groups
        .values()
        .map(|(_, ns)| *ns)
        .fold(0u64, u64::saturating_add);
    let mut out: Vec<ThreadGroupCpu> = groups
        .into_iter()
        .map(|(group, (threads, cpu_ns))| ThreadGroupCpu {
            group,
            threads,
            cpu_ns,
        })
        .collect();
    out.push(ThreadGroupCpu {
        group: EXITED_GROUP.to_owned(),
        threads: 0,
        cpu_ns: process_ns.saturating_sub(live_ns),
    });
    Ok(out)
}

/// A thread name without its index: a trailing `-N` or `N` goes.
pub fn group_of(name: &str) -> String {
    let trimmed = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let trimmed = trimmed.strip_suffix('-').unwrap_or(trimmed);
    if trimmed.is_empty() {
        name.to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_are_dropped_from_group_names() {
        assert_eq!(group_of("braid-verify-12"), "braid-verify");
        assert_eq!(group_of("braid-block-0"), "braid-block");
        assert_eq!(group_of("braid-app"), "braid-app");
        assert_eq!(group_of("tokio-runtime-w"), "tokio-runtime-w");
        assert_eq!(group_of("42"), "42");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_busy_named_thread_shows_in_its_group_and_the_groups_sum_to_the_process() {
        let busy = std::thread::Builder::new()
            .name("braid-test-7".into())
            .spawn(|| {
                let timer = braid_primitives::cpu_time::CpuTimer::start();
                let mut x = 0u64;
                while timer.elapsed_ns() < 20_000_000 {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
                let groups = thread_cpu().unwrap();
                (x, groups)
            })
            .unwrap();
        let (_, groups) = busy.join().unwrap();
        let test = groups
            .iter()
            .find(|group| group.group == "braid-test")
            .expect("the busy thread's group");
        assert_eq!(test.threads, 1);
        assert!(test.cpu_ns >= 20_000_000, "{test:?}");
        assert_eq!(groups.last().unwrap().group, EXITED_GROUP);
    }
}
