// Signals without signal handlers: the master blocks the signals it cares about
// before forking and waits for them synchronously (sigtimedwait); each worker
// reads them from a signalfd inside its event loop. No code runs in a handler.
import CEventPoll
import Glibc

/// A set of signal numbers (sigset_t).
package struct SignalSet {
    private(set) var raw = sigset_t()

    package init(_ signals: [Int32]) {
        sigemptyset(&raw)
        for signal in signals { sigaddset(&raw, signal) }
    }

    /// Blocks these signals for the calling thread; forked children inherit the mask.
    package func block() throws(SystemError) {
        var set = raw
        _ = try blockingSystemCall("sigprocmask(SIG_BLOCK)", { sigprocmask(SIG_BLOCK, &set, nil) })
    }

    /// Waits up to `timeoutMilliseconds` (nil: forever) for one of these (blocked) signals.
    /// Returns its number, or nil when the time ran out or a signal outside the set interrupted the wait.
    package func wait(timeoutMilliseconds: Int?) -> Int32? {
        waitWithSender(timeoutMilliseconds: timeoutMilliseconds)?.signal
    }

    /// `wait`, also telling which process sent the signal (0 when the kernel did):
    /// the master tells a QUIT from the new master of a binary upgrade from an operator's.
    package func waitWithSender(timeoutMilliseconds: Int?) -> (signal: Int32, sender: Int32)? {
        var set = raw
        var info = siginfo_t()
        // EAGAIN (timeout) and EINTR both mean "nothing to act on": the caller re-checks its
        // state, and recomputes what is left of its timeout, so EINTR is not retried here.
        let received: Int32?
        if let timeoutMilliseconds {
            var timeout = timespec(tv_sec: timeoutMilliseconds / 1000, tv_nsec: (timeoutMilliseconds % 1000) * 1_000_000)
            received = (try? systemCall("sigtimedwait", retryOnInterrupt: false, { sigtimedwait(&set, &info, &timeout) })) ?? nil
        } else {
            received = (try? systemCall("sigwaitinfo", retryOnInterrupt: false, { sigwaitinfo(&set, &info) })) ?? nil
        }
        guard let signal = received, signal > 0 else { return nil }
        return (signal, cep_siginfo_sender(&info))
    }
}

/// Signal dispositions the whole process tree shares.
package enum SignalDisposition {
    /// Writing to a socket whose peer has gone must return EPIPE, not kill the worker.
    package static func ignoreBrokenPipe() {
        _ = Glibc.signal(SIGPIPE, SIG_IGN)
    }

    /// Control signals must never terminate (or, for TTIN and TTOU, stop) a process
    /// through their default action: a worker leaves them blocked and unread. The
    /// master still receives the ones it blocks: the kernel never discards a blocked
    /// signal as ignored (signal(7)), so sigtimedwait sees them. (SIGUSR1 reopens
    /// the logs: workers read it too, so it is blocked and waited for, never ignored.)
    package static func ignoreUnusedControlSignals() {
        for signal in [SIGHUP, SIGUSR2, SIGTTIN, SIGTTOU] { _ = Glibc.signal(signal, SIG_IGN) }
    }
}

/// A non-blocking signalfd: pending signals become readable records in an epoll set.
/// A class, because a process's stop notice, its loop and its models share the one descriptor.
package final class SignalDescriptor {
    private let descriptor: FileDescriptor

    package init(_ signals: SignalSet) throws(SystemError) {
        var set = signals.raw
        descriptor = FileDescriptor(try blockingSystemCall("signalfd", { cep_signalfd(&set) }))
    }

    package var fd: Int32 { descriptor.raw }

    /// The next pending signal, or nil if none is pending.
    package func next() throws(SystemError) -> Int32? {
        guard let signal = try systemCall("read(signalfd \(fd))", { cep_signalfd_read(fd) }), signal > 0 else {
            return nil
        }
        return signal
    }

    /// Closes the signalfd (once: later calls do nothing).
    package func close() {
        descriptor.close()
    }
}

/// The conventional name of a signal, for log lines ("SIGKILL").
package func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGHUP: return "SIGHUP"
    case SIGINT: return "SIGINT"
    case SIGQUIT: return "SIGQUIT"
    case SIGILL: return "SIGILL"
    case SIGTRAP: return "SIGTRAP"
    case SIGABRT: return "SIGABRT"
    case SIGBUS: return "SIGBUS"
    case SIGFPE: return "SIGFPE"
    case SIGKILL: return "SIGKILL"
    case SIGSEGV: return "SIGSEGV"
    case SIGPIPE: return "SIGPIPE"
    case SIGTERM: return "SIGTERM"
    case SIGUSR1: return "SIGUSR1"
    case SIGUSR2: return "SIGUSR2"
    case SIGCHLD: return "SIGCHLD"
    case SIGTTIN: return "SIGTTIN"
    case SIGTTOU: return "SIGTTOU"
    case SIGSTOP: return "SIGSTOP"
    default: return "signal \(signal)"
    }
}
