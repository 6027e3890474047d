// ChunkPump: the bytes of a response body that an async sequence produces (a
// task iterates it) on their way to the socket (the event loop pulls them as it
// drains). The task runs at most `ahead` bytes ahead of the socket: past that
// it waits for the loop to take some. The loop, finding nothing yet, leaves a
// wake-up (a nudge through its eventfd) for the task's next chunk. Both sides
// meet under one lock; neither ever blocks the other's thread.
import Synchronization

package final class ChunkPump: BodyProducer {
    /// Bytes produced and not yet taken by the socket past which the producer waits.
    package static let ahead = 64 * 1024

    /// What a pull found.
    package enum Pull: Equatable {
        case bytes(Int)
        /// Nothing yet: the wake-up passed with the pull will be called when there is.
        case pending
        case end
        /// The sequence threw, or the pump was cancelled: the body cannot be completed.
        case failed
    }

    private struct State {
        var chunks = ChunkQueue()
        /// Bytes taken of the first chunk.
        var taken = 0
        var buffered = 0
        var finished = false
        var failed = false
        var cancelled = false
        var started = false
        var task: Task<Void, Never>?
        var wakeConsumer: (@Sendable () -> Void)?
        var producerWaiting: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())
    private let run: @Sendable (ChunkPump) async -> Void

    init<Chunks: AsyncSequence & Sendable>(_ chunks: Chunks) where Chunks.Element == [UInt8] {
        run = { pump in
            do {
                for try await chunk in chunks {
                    guard await pump.push(chunk) else { return }
                }
                pump.end(failed: false)
            } catch {
                pump.end(failed: true)
            }
        }
    }

    /// Starts the task that reads the sequence (once; the first pull calls it).
    package func startIfNeeded() {
        let start = state.withLock { state in
            guard !state.started && !state.cancelled else { return false }
            state.started = true
            return true
        }
        guard start else { return }
        let task = Task.detached { [run, self] in await run(self) }
        let cancelled = state.withLock { state in
            state.task = task
            return state.cancelled
        }
        if cancelled { task.cancel() }
    }

    /// Copies the next bytes into `buffer`. When nothing is there yet, the wake-up `wake` makes
    /// is kept, and called once there is (it is made only then: most pulls find bytes).
    package func pull(into buffer: UnsafeMutableRawBufferPointer, orWake wake: () -> @Sendable () -> Void) -> Pull {
        startIfNeeded()
        let (result, producer) = state.withLock { state -> (Pull, CheckedContinuation<Void, Never>?) in
            var copied = 0
            while copied < buffer.count, let chunk = state.chunks.first {
                let count = min(chunk.count - state.taken, buffer.count - copied)
                chunk.withUnsafeBytes { bytes in
                    (buffer.baseAddress! + copied).copyMemory(from: bytes.baseAddress! + state.taken, byteCount: count)
                }
                copied += count
                state.taken += count
                if state.taken == chunk.count {
                    state.chunks.dropFirst()
                    state.taken = 0
                }
            }
            state.buffered -= copied
            if copied > 0 {
                let producer = state.buffered < Self.ahead ? state.producerWaiting.take() : nil
                return (.bytes(copied), producer)
            }
            if state.failed || state.cancelled { return (.failed, nil) }
            if state.finished { return (.end, nil) }
            state.wakeConsumer = wake()
            return (.pending, nil)
        }
        producer?.resume()
        return result
    }

    /// The server is done with the body (sent, or its connection gone): the task is cancelled.
    package func cancel() {
        let (task, producer) = state.withLock { state in
            state.cancelled = true
            state.chunks.removeAll()
            return (state.task, state.producerWaiting.take())
        }
        producer?.resume()
        task?.cancel()
    }

    /// BodyProducer, for code that pulls it synchronously: nothing ever waits here, so a
    /// pull that finds no bytes yet fails the body (the server pulls through `pull` instead).
    package func produce(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        switch pull(into: buffer, orWake: { {} }) {
        case .bytes(let count): return count
        case .end: return 0
        case .pending, .failed: return -1
        }
    }

    /// The task's side: queues `chunk`, first waiting while the socket is `ahead` behind.
    /// Returns false once the pump is cancelled.
    private func push(_ chunk: [UInt8]) async -> Bool {
        while true {
            if Task.isCancelled { return false }
            let (queued, wake) = state.withLock { state -> (Bool?, (@Sendable () -> Void)?) in
                if state.cancelled { return (false, nil) }
                guard state.buffered < Self.ahead else { return (nil, nil) }
                if !chunk.isEmpty {
                    state.chunks.append(chunk)
                    state.buffered += chunk.count
                }
                return (true, state.wakeConsumer.take())
            }
            wake?()
            if let queued { return queued }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.cancelled || state.buffered < Self.ahead { return true }
                    state.producerWaiting = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    private func end(failed: Bool) {
        let wake = state.withLock { state in
            if failed { state.failed = true } else { state.finished = true }
            return state.wakeConsumer.take()
        }
        wake?()
    }
}
