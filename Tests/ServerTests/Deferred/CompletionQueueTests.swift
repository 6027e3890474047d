// The path deferred answers take back to the loop: the eventfd counter, the
// locked completion queue many threads post to, and the dispatch that runs work
// on the handler pool or in a task (and inline, for the blocking models).
import Glibc
import HTTP1
import Logging
import Synchronization
import TestSupport
import XCTest

@testable import Server
@testable import ServerSystem

final class CompletionQueueTests: XCTestCase {
    static func isReadable(_ fd: Int32, withinMilliseconds milliseconds: Int32) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, milliseconds) > 0
    }

    func testAnEventCounterCountsSignalsUntilReset() throws {
        let counter = try EventCounter()
        defer { counter.close() }
        XCTAssertEqual(counter.reset(), 0, "an unsignalled counter reads nothing, without blocking")
        XCTAssertFalse(Self.isReadable(counter.fd, withinMilliseconds: 0))
        for _ in 0..<3 { counter.signal() }
        XCTAssertTrue(Self.isReadable(counter.fd, withinMilliseconds: 0))
        XCTAssertEqual(counter.reset(), 3)
        XCTAssertFalse(Self.isReadable(counter.fd, withinMilliseconds: 0), "a reset leaves it unreadable")
    }

    func testEveryCompletionPostedByManyThreadsIsTakenOnceAndInEachThreadsOrder() throws {
        let queue = try CompletionQueue()
        defer { queue.close() }
        let threads = 8, perThread = 200
        var started: [pthread_t] = []
        for thread in 0..<threads {
            started.append(try Threads.start {
                for serial in 0..<perThread {
                    queue.post(Completion(token: UInt64(thread), serial: UInt64(serial), response: Response()))
                }
            })
        }
        var taken: [[UInt64]] = Array(repeating: [], count: threads)
        var total = 0
        for _ in 0..<1000 where total < threads * perThread {
            guard Self.isReadable(queue.fd, withinMilliseconds: 1000) else { break }
            for completion in queue.takeAll() {
                taken[Int(completion.token)].append(completion.serial)
                total += 1
            }
        }
        for thread in started { Threads.join(thread, logger: Logger(label: "test")) }
        XCTAssertEqual(total, threads * perThread)
        for (thread, serials) in taken.enumerated() {
            XCTAssertEqual(serials, (0..<UInt64(perThread)).map { $0 }, "thread \(thread)")
        }
        XCTAssertTrue(queue.takeAll().isEmpty)
        XCTAssertFalse(Self.isReadable(queue.fd, withinMilliseconds: 0), "nothing left to wake the loop for")
    }

    func testAnswersPostedAfterTheQueueClosesAreDroppedWithoutTouchingItsDescriptor() throws {
        let queue = try CompletionQueue()
        let number = queue.fd
        queue.close()
        // The kernel hands the number out again; a late post must not write into this pipe.
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        defer { ends.forEach { _ = close($0) } }
        queue.post(Completion(token: 1, serial: 1, response: Response()))
        XCTAssertTrue(queue.takeAll().isEmpty)
        XCTAssertFalse(ends.contains(number) && Self.isReadable(ends[0], withinMilliseconds: 0),
                       "nothing was written to descriptor \(number) once it was closed")
    }

    func testPoolAndTaskWorkPostTheirAnswersForTheirTicket() throws {
        let dispatch = try DeferredDispatch(threads: 2, logger: Logger(label: "test"))
        defer { dispatch.close() }
        let (request, head) = try Self.ownedRequest("GET /work?x=1 HTTP/1.1\r\nHost: t\r\nX-Name: pool\r\n\r\n")
        XCTAssertEqual(request.method, "GET")
        XCTAssertEqual(request.path, "/work")
        XCTAssertEqual(request.query, "x=1")
        XCTAssertEqual(request.header("x-name"), "pool")
        let pool = dispatch.start(.pool { Response(body: .bytes(Array("pool \($0.target)".utf8))) },
                                  request: request, head: head, token: 7)
        let task = dispatch.start(.task { owned in
            await Task.yield()
            return Response(body: .bytes(Array("task \(owned.path) on \(pthread_self())".utf8)))
        }, request: request, head: head, token: 9)
        XCTAssertNotEqual(pool.serial, task.serial)
        var answers: [UInt64: (UInt64, String)] = [:]
        for _ in 0..<10 where answers.count < 2 {
            guard Self.isReadable(dispatch.completions.fd, withinMilliseconds: 5000) else { break }
            // What the event loop does each turn: run the tasks' jobs, take the answers.
            var completions: [Completion] = [], jobs: [UnownedJob] = []
            dispatch.completions.wakeupSeen()
            dispatch.completions.take(completions: &completions, jobs: &jobs)
            dispatch.completions.run(&jobs)
            for completion in completions {
                guard case .bytes(let body) = completion.response.body else { continue }
                answers[completion.token] = (completion.serial, String(decoding: body, as: UTF8.self))
            }
        }
        XCTAssertEqual(answers[7]?.0, pool.serial)
        XCTAssertEqual(answers[7]?.1, "pool /work?x=1")
        XCTAssertEqual(answers[9]?.0, task.serial)
        XCTAssertEqual(answers[9]?.1, "task /work on \(pthread_self())",
                       "the task ran on the thread that runs the queue's jobs (the loop's), across its await")
    }

    /// The loop is woken (the eventfd raised) only while it may sleep in epoll_wait, and
    /// then once, however many answers and jobs arrive, until it reads the eventfd back.
    func testTheEventfdIsRaisedOnlyForASleepingLoopAndOncePerBatch() throws {
        let dispatch = try DeferredDispatch(threads: 1, logger: Logger(label: "test"))
        defer { dispatch.close() }
        let queue = dispatch.completions
        let (request, head) = try Self.ownedRequest("GET /batch HTTP/1.1\r\nHost: t\r\n\r\n")
        var completions: [Completion] = [], jobs: [UnownedJob] = []
        queue.loopWoke()
        // On this (the loop's) thread: a new runner's task runs at once inside `start`, a parked
        // runner's as a job of the queue (TaskRunners); neither raises the eventfd.
        for token in 1...3 { _ = dispatch.start(.task { _ in Response() }, request: request, head: head, token: UInt64(token)) }
        XCTAssertFalse(Self.isReadable(queue.fd, withinMilliseconds: 0), "answers and jobs of the loop's own turn wake nothing")
        XCTAssertFalse(queue.loopWillWait(), "answers wait: the loop must not block")
        var tokens: [UInt64] = []
        for _ in 0..<3 {
            queue.take(completions: &completions, jobs: &jobs)
            queue.run(&jobs)
            tokens += completions.map(\.token)
            completions.removeAll()
        }
        XCTAssertEqual(tokens.sorted(), [1, 2, 3])
        XCTAssertTrue(queue.loopWillWait(), "nothing waits: the loop may block")
        for serial in 1...5 { queue.post(Completion(token: 9, serial: UInt64(serial), response: Response())) }
        XCTAssertTrue(Self.isReadable(queue.fd, withinMilliseconds: 1000), "a sleeping loop is woken")
        var count: UInt64 = 0
        XCTAssertEqual(read(queue.fd, &count, 8), 8)
        XCTAssertEqual(count, 1, "raised once for five answers")
    }

    func testTheBlockingModelsRunDeferredWorkInlineAndGetItsAnswer() throws {
        let (request, _) = try Self.ownedRequest("GET /inline HTTP/1.1\r\nHost: t\r\n\r\n")
        let answer = DeferredWork.task { owned in
            try? await Task.sleep(nanoseconds: 1_000_000)
            return Response(status: HTTPStatus(code: 202, reason: "Accepted"), body: .bytes(Array(owned.path.utf8)))
        }.runInline(request)
        XCTAssertEqual(answer.status.code, 202)
        XCTAssertEqual(DeferredWork.pool { _ in Response(status: .noContent) }.runInline(request).status.code, 204)
    }

    // MARK: Helpers

    /// Parses `text` and copies the request out, as the driver does when a handler defers.
    static func ownedRequest(_ text: String) throws -> (OwnedRequest, RequestHead) {
        let parser = RequestParser(limits: RequestLimits())
        let storage = HeaderStorage(limits: parser.limits)
        var bytes = Array(text.utf8)
        var progress = ParseProgress()
        return try withExtendedLifetime(storage) {
            try bytes.withUnsafeMutableBytes { raw in
                guard case .complete(let parsed) = parser.parse(UnsafeRawBufferPointer(raw), progress: &progress,
                                                               fields: storage.buffer) else {
                    throw LaunchError("the request did not parse: \(text)")
                }
                let request = Request(bytes: UnsafeRawBufferPointer(raw), head: parsed, fields: UnsafeBufferPointer(storage.buffer))
                return (OwnedRequest(request), parsed)
            }
        }
    }
}
