// CEventPoll: the slice of the Linux kernel interface that Swift cannot reach
// cleanly through Glibc. Every function returns -1 with errno intact on failure;
// none of them prints, allocates or exits. Everything else lives in Swift.
#ifndef CEVENTPOLL_H
#define CEVENTPOLL_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/epoll.h>     // Glibc's Swift module does not export epoll.
#include <sys/signalfd.h>  // nor signalfd.
#include <sys/socket.h>
#include <linux/openat2.h>  // RESOLVE_* for cep_openat2

// The EPOLL* names are an anonymous enum in <sys/epoll.h>, which Swift imports
// with awkward types; these are the same bits as plain uint32_t values.
static const uint32_t CEP_EPOLLIN = EPOLLIN;
static const uint32_t CEP_EPOLLOUT = EPOLLOUT;
static const uint32_t CEP_EPOLLRDHUP = EPOLLRDHUP;
static const uint32_t CEP_EPOLLERR = EPOLLERR;
static const uint32_t CEP_EPOLLHUP = EPOLLHUP;
static const uint32_t CEP_EPOLLET = EPOLLET;
static const uint32_t CEP_EPOLLEXCLUSIVE = EPOLLEXCLUSIVE;

// epoll_create1 with EPOLL_CLOEXEC, so a forked worker's loop never leaks into exec'd programs.
int cep_epoll_create(void);

// epoll_ctl taking the event bits and the 64-bit user token directly: Swift sees
// struct epoll_event as packed on x86_64, and building one there is error-prone.
int cep_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token);

// epoll_wait into a caller-owned array; events are read back with the accessors below.
int cep_epoll_wait(int epfd, struct epoll_event *events, int max_events, int timeout_ms);

// Field accessors for the (packed) epoll_event array filled by cep_epoll_wait.
static inline uint32_t cep_event_bits(const struct epoll_event *events, int index) {
    return events[index].events;
}
static inline uint64_t cep_event_token(const struct epoll_event *events, int index) {
    return events[index].data.u64;
}

// accept4 needs _GNU_SOURCE, which Swift's Glibc module does not define. The new
// descriptor is always non-blocking and close-on-exec; the peer address is not wanted.
int cep_accept(int listen_fd);

// accept4 that also writes the peer's numeric address ("192.0.2.7", "::1") into `peer`
// (at least INET6_ADDRSTRLEN bytes), for the access log: sockaddr_storage and its
// family casts are awkward in Swift. An address that cannot be shown is written as "-".
int cep_accept_peer(int listen_fd, char *peer, size_t capacity);

// Creates a listening TCP socket on a numeric IPv4 or IPv6 address: socket,
// SO_REUSEADDR, optional SO_REUSEPORT, optional IPV6_V6ONLY (an IPv6 address only), TCP_NODELAY,
// TCP_DEFER_ACCEPT, bind, listen(backlog). The socket is
// non-blocking and close-on-exec. On failure it returns -1 with errno intact
// and *failed_call names the step that failed ("inet_pton", "bind", ...).
int cep_listen_tcp(const char *host, uint16_t port, int backlog, int reuseport, int ipv6_only,
                   const char **failed_call);

// Binds (without SO_REUSEPORT, without listening) and closes a socket on host:port, to
// learn whether the port is free: SO_REUSEPORT sockets of the same user would otherwise
// share a port that another server already serves. 0 if free, -1 with errno otherwise.
int cep_probe_port(const char *host, uint16_t port, int ipv6_only, const char **failed_call);

// The local port a socket is bound to (getsockname), for `--port 0`; -1 on failure.
int cep_local_port(int fd);

// prctl is variadic, which Swift cannot call: asks the kernel to send `signal`
// to this process when its parent dies (PR_SET_PDEATHSIG).
int cep_set_parent_death_signal(int signal);

// pipe2 is declared only under _GNU_SOURCE: a pipe that is non-blocking and close-on-exec at once.
int cep_pipe(int fds[2]);

// gettid is declared only under _GNU_SOURCE: the thread models name the serving thread.
int cep_thread_id(void);

// mkostemp is declared only under _GNU_SOURCE: creates a new file from `template`
// (ending in XXXXXX, replaced in place) exclusively, close-on-exec (mkostemp(3)).
int cep_create_temporary(char *template);

// signalfd with SFD_NONBLOCK | SFD_CLOEXEC for the given set (already blocked by the caller).
int cep_signalfd(const sigset_t *mask);

// eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC): Glibc's Swift module does not export eventfd (eventfd(2)).
int cep_eventfd(void);

// Reads one pending signalfd record and returns its signal number, 0 if none is pending.
int cep_signalfd_read(int fd);

// siginfo_t's si_pid sits in a union Swift cannot name: the sender of a signal.
int cep_siginfo_sender(const siginfo_t *info);

// How many established connections wait in a listener's accept queue (TCP_INFO's
// tcpi_unacked, which for a listening socket is its accept backlog); -1 on failure.
int cep_listen_queue_length(int fd);

// Attaches a classic BPF program to the SO_REUSEPORT group of `fd` that hands every
// new connection to one of the group's first `active` sockets (picked at random), so
// the sockets after them receive nothing new and their queues can drain.
// struct sock_filter and its macros are C-only.
int cep_reuseport_steer(int fd, uint32_t active);

// Removes that program (SO_DETACH_REUSEPORT_BPF): the kernel's own hash spreads again.
int cep_reuseport_unsteer(int fd);

// Attaches a classic BPF socket filter (SO_ATTACH_FILTER) to the listener `fd` that
// drops every TCP segment with SYN set: the kernel answers no new connection on it,
// while handshakes it already answered still complete into its accept queue.
int cep_listen_drop_syns(int fd);

// openat2(2) has no C library wrapper: the raw syscall with a struct open_how of `flags`
// and `resolve` (RESOLVE_* bits, <linux/openat2.h>). -1 with errno ENOSYS on kernels before 5.6.
int cep_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve);
static const uint64_t CEP_RESOLVE_BENEATH = RESOLVE_BENEATH;
static const uint64_t CEP_RESOLVE_NO_MAGICLINKS = RESOLVE_NO_MAGICLINKS;

// preadv2(2) of one buffer with RWF_NOWAIT: a read that is served from the page cache or
// fails with EAGAIN at once instead of waiting for the disk. preadv2 and RWF_NOWAIT are
// behind _GNU_SOURCE, which Glibc's Swift module does not define. -1 with EOPNOTSUPP
// where the file system or kernel (before 4.14) cannot honour the flag.
long cep_pread_nowait(int fd, void *buffer, size_t count, int64_t offset);

// The wait-status macros (WEXITSTATUS, WIFSIGNALED, ...) are not functions Swift can see.
int cep_wait_exit_code(int status);
int cep_wait_signaled(int status);
int cep_wait_term_signal(int status);

// gettid(2): Glibc's wrapper is not imported into Swift, nor SYS_gettid. Never fails.
int cep_gettid(void);

#endif
