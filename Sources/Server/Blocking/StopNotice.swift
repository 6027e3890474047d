// StopNotice: how one blocking process or thread learns that it must stop, and
// how. QUIT asks it to finish: accept nothing new, complete the request in hand
// (answered with `Connection: close`), close an idle keep-alive connection, and
// be gone by --graceful-timeout. TERM and INT abort at once. The process models
// read both from the process's own signalfd (reading consumes them, so a QUIT
// already seen does not wake every later wait); in the thread models the main
// thread reads the signals and raises one of two shared pipes, which nobody
// reads, so every thread sees them.
import Glibc
import ServerSystem

final class StopNotice {
    enum State: Equatable {
        case serving
        /// Finish what is in hand, and leave at `deadline` (monotonic ms) at the latest.
        case finishing(deadline: Int)
        case aborting
    }

    private enum Source {
        case signals(SignalDescriptor)
        case pipes(StopPipes)
    }

    private let source: Source
    private let gracefulMilliseconds: Int
    private(set) var state = State.serving

    /// A process's own stop signals (QUIT finishes, TERM and INT abort).
    init(signals: SignalDescriptor, gracefulMilliseconds: Int) {
        source = .signals(signals)
        self.gracefulMilliseconds = gracefulMilliseconds
    }

    /// One thread's view of the pipes its main thread raises.
    init(pipes: StopPipes, gracefulMilliseconds: Int) {
        source = .pipes(pipes)
        self.gracefulMilliseconds = gracefulMilliseconds
    }

    /// What a wait must watch now. Once finishing, the raised finish pipe is left
    /// out: it stays readable for good and would turn every wait into a spin.
    var descriptors: [Int32] {
        switch source {
        case .signals(let signals): return [signals.fd]
        case .pipes(let pipes): return state == .serving ? [pipes.abort.readEnd, pipes.finish.readEnd] : [pipes.abort.readEnd]
        }
    }

    var isFinishing: Bool {
        if case .finishing = state { return true }
        return false
    }

    /// The graceful deadline, once finishing.
    var deadline: Int? {
        if case .finishing(let deadline) = state { return deadline }
        return nil
    }

    /// One of `descriptors` was readable: learn what it says. An abort overrides a
    /// finish; a second QUIT changes nothing (the first deadline stands).
    func update() throws(SystemError) {
        switch source {
        case .signals(let signals):
            while let signal = try signals.next() {
                if signal == SIGQUIT { beginFinishing() } else { state = .aborting }
            }
        case .pipes(let pipes):
            let raised = try Waiting.readableNow([pipes.abort.readEnd, pipes.finish.readEnd])
            if raised[0] { state = .aborting } else if raised[1] { beginFinishing() }
        }
    }

    private func beginFinishing() {
        guard state == .serving else { return }
        state = .finishing(deadline: Clock.monotonicMilliseconds() + gracefulMilliseconds)
    }
}

/// The thread models' two stop pipes, raised by the main thread and watched by all others.
final class StopPipes {
    let finish: WakePipe
    let abort: WakePipe

    init() throws(SystemError) {
        finish = try WakePipe()
        do {
            abort = try WakePipe()
        } catch {
            finish.close()
            throw error
        }
    }

    func close() {
        finish.close()
        abort.close()
    }
}
