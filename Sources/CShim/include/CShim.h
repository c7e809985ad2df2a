#ifndef MLGW_CSHIM_H
#define MLGW_CSHIM_H

#include <sys/types.h>

/// Starts `path` with `argv` and `envp` (NULL-terminated) in `cwd` (may be NULL), with standard
/// input from /dev/null and standard output and error appended to `log_fd` (or /dev/null when < 0).
/// `new_session`: the child gets its own session (it outlives the caller's terminal and group).
/// `die_with_parent`: the kernel sends SIGKILL to the child when the spawning *thread* exits, so
/// call it from a thread that lives as long as the process.
/// Returns the child's pid, or -errno. `idle_priority` starts the program under SCHED_IDLE.
pid_t mlgw_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd,
                 int log_fd, int new_session, int die_with_parent, int idle_priority);

/// Makes this process the reaper of orphaned descendants (PR_SET_CHILD_SUBREAPER).
int mlgw_set_child_subreaper(void);

/// Moves a thread or process (0: the calling thread) to SCHED_IDLE, which glibc only declares
/// with _GNU_SOURCE. Returns 0 or -errno.
int mlgw_sched_idle(pid_t pid);

#endif
