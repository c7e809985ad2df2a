// _GNU_SOURCE must be defined here, not in the public header: Swift's Glibc module is built without it.
#define _GNU_SOURCE
#include "CShim.h"
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t mlgw_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd,
                 int log_fd, int new_session, int die_with_parent, int idle_priority) {
    pid_t parent = getpid();
    int err_pipe[2];
    if (pipe2(err_pipe, O_CLOEXEC) != 0) return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(err_pipe[0]);
        close(err_pipe[1]);
        return -e;
    }
    if (pid == 0) {
        // Only async-signal-safe calls between fork and exec.
        if (new_session) setsid();
        if (idle_priority) {
            // Inherited across exec and by every thread the program starts.
            struct sched_param param = { .sched_priority = 0 };
            sched_setscheduler(0, SCHED_IDLE, &param);
        }
        if (die_with_parent) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(127);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) dup2(devnull, 0);
        int out = log_fd >= 0 ? log_fd : devnull;
        if (out >= 0) {
            dup2(out, 1);
            dup2(out, 2);
        }
        if (cwd != NULL && chdir(cwd) != 0) {
            int e = errno;
            (void)!write(err_pipe[1], &e, sizeof e);
            _exit(127);
        }
        // Close every other descriptor the parent had open (listening sockets, lock files).
        for (int fd = 3; fd < 1024; fd++) {
            if (fd != err_pipe[1]) close(fd);
        }
        execve(path, argv, envp);
        int e = errno;
        (void)!write(err_pipe[1], &e, sizeof e);
        _exit(127);
    }
    close(err_pipe[1]);
    int child_errno = 0;
    ssize_t n;
    do {
        n = read(err_pipe[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    close(err_pipe[0]);
    if (n == sizeof child_errno) {
        int status;
        waitpid(pid, &status, 0);
        return -child_errno;
    }
    return pid;
}

int mlgw_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1);
}

int mlgw_sched_idle(pid_t pid) {
    struct sched_param param = { .sched_priority = 0 };
    return sched_setscheduler(pid, SCHED_IDLE, &param) == 0 ? 0 : -errno;
}
