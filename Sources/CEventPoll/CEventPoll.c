// Thin pass-throughs to the kernel for what Swift cannot call directly.
// See include/CEventPoll.h for why each one exists.
#define _GNU_SOURCE
#include "CEventPoll.h"
#include <sys/eventfd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

_Static_assert(sizeof(uint64_t) == sizeof(((struct epoll_event *)0)->data),
               "the epoll token must fill epoll_data");

int cep_epoll_create(void) {
    return epoll_create1(EPOLL_CLOEXEC);
}

int cep_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token) {
    // Kernels before 2.6.9 required a non-null event even for EPOLL_CTL_DEL; always pass one.
    struct epoll_event event = { .events = events, .data = { .u64 = token } };
    return epoll_ctl(epfd, op, fd, &event);
}

int cep_epoll_wait(int epfd, struct epoll_event *events, int max_events, int timeout_ms) {
    return epoll_wait(epfd, events, max_events, timeout_ms);
}

int cep_accept(int listen_fd) {
    return accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int cep_pipe(int fds[2]) {
    return pipe2(fds, O_NONBLOCK | O_CLOEXEC);
}

int cep_thread_id(void) {
    return (int)gettid();
}

int cep_create_temporary(char *template) {
    return mkostemp(template, O_CLOEXEC);
}

int cep_accept_peer(int listen_fd, char *peer, size_t capacity) {
    struct sockaddr_storage address;
    socklen_t length = sizeof(address);
    int fd = accept4(listen_fd, (struct sockaddr *)&address, &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return -1;
    const void *bytes = NULL;
    if (address.ss_family == AF_INET) bytes = &((struct sockaddr_in *)&address)->sin_addr;
    if (address.ss_family == AF_INET6) bytes = &((struct sockaddr_in6 *)&address)->sin6_addr;
    if (bytes == NULL || inet_ntop(address.ss_family, bytes, peer, (socklen_t)capacity) == NULL) {
        peer[0] = '-';
        peer[1] = '\0';
    }
    return fd;
}

// Fills `address` from a numeric host; returns its length, or 0 if the host is not numeric.
static socklen_t resolve_numeric(const char *host, uint16_t port, struct sockaddr_storage *address) {
    memset(address, 0, sizeof(*address));
    struct sockaddr_in *v4 = (struct sockaddr_in *)address;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        return sizeof(*v4);
    }
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)address;
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        return sizeof(*v6);
    }
    return 0;
}

static int fail(int fd, const char *call, const char **failed_call) {
    int saved = errno;
    if (fd >= 0) close(fd);
    *failed_call = call;
    errno = saved;
    return -1;
}

// socket, SO_REUSEADDR, optional SO_REUSEPORT and IPV6_V6ONLY, bind: what a listener and a probe share.
static int bound_socket(const char *host, uint16_t port, int reuseport, int ipv6_only, const char **failed_call) {
    struct sockaddr_storage address;
    socklen_t length = resolve_numeric(host, port, &address);
    if (length == 0) {
        errno = EINVAL;
        return fail(-1, "inet_pton", failed_call);
    }
    int fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(fd, "socket", failed_call);
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
        return fail(fd, "setsockopt(SO_REUSEADDR)", failed_call);
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0)
        return fail(fd, "setsockopt(SO_REUSEPORT)", failed_call);
    // ipv6(7): without IPV6_V6ONLY an IPv6 wildcard socket also takes IPv4 connections,
    // so "[::]:80" could not sit beside "0.0.0.0:80" (nginx's ipv6only=on).
    if (ipv6_only && address.ss_family == AF_INET6
        && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)
        return fail(fd, "setsockopt(IPV6_V6ONLY)", failed_call);
    if (bind(fd, (struct sockaddr *)&address, length) < 0)
        return fail(fd, "bind", failed_call);
    return fd;
}

int cep_listen_tcp(const char *host, uint16_t port, int backlog, int reuseport, int ipv6_only,
                   const char **failed_call) {
    int fd = bound_socket(host, port, reuseport, ipv6_only, failed_call);
    if (fd < 0) return -1;
    int on = 1;
    // Linux copies TCP_NODELAY from the listener to every accepted socket, which saves
    // a setsockopt per connection; small responses must not wait for Nagle's algorithm.
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) < 0)
        return fail(fd, "setsockopt(TCP_NODELAY)", failed_call);
    // HTTP clients speak first: with TCP_DEFER_ACCEPT the kernel hands over a connection
    // once its first bytes are there, so the worker reads the request right after accept4
    // (nginx's "deferred" listen option). The value bounds the wait, in seconds.
    int defer_seconds = 10;
    if (setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_seconds, sizeof(defer_seconds)) < 0)
        return fail(fd, "setsockopt(TCP_DEFER_ACCEPT)", failed_call);
    if (listen(fd, backlog) < 0)
        return fail(fd, "listen", failed_call);
    return fd;
}

int cep_probe_port(const char *host, uint16_t port, int ipv6_only, const char **failed_call) {
    int fd = bound_socket(host, port, 0, ipv6_only, failed_call);
    if (fd < 0) return -1;
    close(fd);
    return 0;
}

int cep_local_port(int fd) {
    struct sockaddr_storage address;
    socklen_t length = sizeof(address);
    if (getsockname(fd, (struct sockaddr *)&address, &length) < 0) return -1;
    if (address.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&address)->sin_port);
    if (address.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&address)->sin6_port);
    errno = EAFNOSUPPORT;
    return -1;
}

int cep_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0);
}

int cep_signalfd(const sigset_t *mask) {
    return signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

int cep_eventfd(void) {
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

int cep_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof(info));
    if (n == (ssize_t)sizeof(info)) return (int)info.ssi_signo;
    if (n < 0 && errno == EAGAIN) return 0;
    if (n >= 0) errno = EIO;
    return -1;
}

int cep_siginfo_sender(const siginfo_t *info) { return (int)info->si_pid; }

int cep_listen_queue_length(int fd) {
    struct tcp_info info;
    socklen_t length = sizeof(info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) < 0) return -1;
    return (int)info.tcpi_unacked;
}

int cep_reuseport_steer(int fd, uint32_t active) {
    if (active == 0) {
        errno = EINVAL;
        return -1;
    }
    // A = a fresh random number; A %= active; return A. The value indexes the group's
    // sockets in the order they started listening; an index past the end would fall back
    // to the hash. Not skb->hash (SKF_AD_RXHASH): on a NIC that computes no receive hash,
    // with RPS off (many virtio-net VMs), it is 0 for every SYN, which would send every
    // new connection to socket 0. Only the SYN is steered (the accepted connection then
    // belongs to that socket), so a random pick costs no flow affinity.
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_RANDOM)),
        BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, active),
        BPF_STMT(BPF_RET | BPF_A, 0),
    };
    struct sock_fprog program = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &program, sizeof(program));
}

#ifndef SO_DETACH_REUSEPORT_BPF
#define SO_DETACH_REUSEPORT_BPF 68
#endif

int cep_reuseport_unsteer(int fd) {
    int unused = 0;
    return setsockopt(fd, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &unused, sizeof(unused));
}

int cep_listen_drop_syns(int fd) {
    // tcp_v4_rcv and tcp_v6_rcv run a listener's filter (tcp_filter) before it handles
    // a SYN, with the packet starting at the TCP header: byte 13 holds the flags. A
    // dropped SYN gets no answer, so the client retransmits it (the first time after
    // 1 s) and meets a refusal once the socket is closed, instead of a handshake that
    // the close would then reset. The final ACK and the first data of handshakes
    // already answered carry no SYN and pass. Accepted sockets inherit the filter,
    // which is harmless: an established connection receives no SYN.
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x02, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0),
        BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
    };
    struct sock_fprog program = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof(program));
}

int cep_wait_exit_code(int status) { return WEXITSTATUS(status); }
int cep_wait_signaled(int status) { return WIFSIGNALED(status); }
int cep_wait_term_signal(int status) { return WTERMSIG(status); }

int cep_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve) {
#ifdef SYS_openat2
    struct open_how how = { .flags = flags, .mode = 0, .resolve = resolve };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
#else
    (void)dirfd; (void)path; (void)flags; (void)resolve;
    errno = ENOSYS;
    return -1;
#endif
}

long cep_pread_nowait(int fd, void *buffer, size_t count, int64_t offset) {
    struct iovec vector = { .iov_base = buffer, .iov_len = count };
    return (long)preadv2(fd, &vector, 1, (off_t)offset, RWF_NOWAIT);
}

int cep_gettid(void) {
    return (int)syscall(SYS_gettid);
}
