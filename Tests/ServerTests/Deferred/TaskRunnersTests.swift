// TaskRunners: async handlers' tasks are reused from one request to the next
// (parked between them), and cancelling a request's work reaches only the task
// doing that work: a runner that finished it and parked, or went on to another
// request, is left alone; a cancelled runner ends instead of parking again.
// This thread plays the worker's loop: it runs the queue's jobs.
import HTTP1
import Logging
import XCTest

@testable import Server

final class TaskRunnersTests: XCTestCase {
    private var dispatch: DeferredDispatch!
    private var completions: [Completion] = []
    private var jobs: [UnownedJob] = []

    override func setUpWithError() throws {
        dispatch = try DeferredDispatch(threads: 1, logger: Logger(label: "test"))
    }

    override func tearDown() {
        dispatch.close()
    }

    /// Starts `work` for token `token`, as the driver hands a request off.
    private func start(_ token: UInt64, _ work: @escaping DeferredWork.TaskBody) throws -> HandlerTicket {
        let (request, head) = try CompletionQueueTests.ownedRequest("GET /runner HTTP/1.1\r\nHost: t\r\n\r\n")
        return dispatch.start(.task(work), request: request, head: head, token: token)
    }

    /// What the loop does at the end of a turn, until the answers for `tokens` came (a few rounds at most).
    private func answers(for tokens: Set<UInt64>) -> [UInt64: String] {
        var found: [UInt64: String] = [:]
        for _ in 0..<200 where Set(found.keys) != tokens {
            dispatch.completions.wakeupSeen()
            dispatch.completions.take(completions: &completions, jobs: &jobs)
            dispatch.completions.run(&jobs)
            for completion in completions {
                guard case .bytes(let body) = completion.response.body else { continue }
                found[completion.token] = String(decoding: body, as: UTF8.self)
            }
            completions.removeAll()
            if Set(found.keys) != tokens { _ = CompletionQueueTests.isReadable(dispatch.completions.fd, withinMilliseconds: 50) }
        }
        return found
    }

    private static func text(_ text: String) -> Response {
        Response(body: .bytes(Array(text.utf8)))
    }

    func testOneTaskAnswersRequestAfterRequest() throws {
        var runners: [ObjectIdentifier] = []
        for token in UInt64(1)...5 {
            let ticket = try start(token) { _ in
                await Task.yield()
                return Self.text("answered")
            }
            XCTAssertEqual(answers(for: [token]), [token: "answered"])
            runners.append(ObjectIdentifier(try XCTUnwrap(ticket.runner)))
        }
        XCTAssertEqual(Set(runners).count, 1, "the first request's runner answered all five")
        XCTAssertEqual(dispatch.runners.parkedCount, 1)
    }

    func testHandlersThatAwaitAtOnceGetARunnerEach() throws {
        let gate = Gate()
        let tickets = try (UInt64(1)...3).map { token in try start(token) { _ in await gate.wait(); return Self.text("\(token)") } }
        XCTAssertEqual(Set(tickets.map { ObjectIdentifier($0.runner!) }).count, 3, "none waits for another's runner")
        gate.open()
        XCTAssertEqual(answers(for: [1, 2, 3]), [1: "1", 2: "2", 3: "3"])
        XCTAssertEqual(dispatch.runners.parkedCount, 3, "all three parked for the next requests")
    }

    func testCancellingAFinishedRequestLeavesItsParkedRunnerAlone() throws {
        let first = try start(1) { _ in Self.text("first") }
        XCTAssertEqual(answers(for: [1]), [1: "first"])
        // The connection closes after its answer came: its ticket is cancelled, the runner parked already.
        first.cancel()
        _ = try start(2) { _ in Self.text("cancelled: \(Task.isCancelled)") }
        XCTAssertEqual(answers(for: [2]), [2: "cancelled: false"], "the next request's work is not cancelled")
        XCTAssertEqual(dispatch.runners.parkedCount, 1)
    }

    func testCancellingAnAwaitingRequestCancelsItsWorkAndEndsItsRunner() throws {
        let ticket = try start(1) { _ in
            try await Task.sleep(nanoseconds: 60_000_000_000)
            return Self.text("slept")
        }
        ticket.cancel()
        // Task.sleep throws CancellationError: the ticket's answer is the 500 (its body is a static string).
        var status: Int?
        for _ in 0..<200 where status == nil {
            dispatch.completions.wakeupSeen()
            dispatch.completions.take(completions: &completions, jobs: &jobs)
            dispatch.completions.run(&jobs)
            if let first = completions.first { status = Int(first.response.status.code) }
            if status == nil { _ = CompletionQueueTests.isReadable(dispatch.completions.fd, withinMilliseconds: 50) }
        }
        completions.removeAll()
        XCTAssertEqual(status, 500)
        XCTAssertEqual(dispatch.runners.parkedCount, 0, "a cancelled task stays cancelled: its runner ended")
        _ = try start(2) { _ in Self.text("cancelled: \(Task.isCancelled)") }
        XCTAssertEqual(answers(for: [2]), [2: "cancelled: false"], "a new runner took the next request")
    }

    func testAParkedRunnerHoldsNoRequest() throws {
        // Its first request (the one it was made for) as much as a later one: a body may be large.
        weak let first = try start(1) { _ in Self.text("first") }
        XCTAssertEqual(answers(for: [1]), [1: "first"])
        XCTAssertEqual(dispatch.runners.parkedCount, 1)
        XCTAssertNil(first, "the answered request is released while its runner is parked")
        weak let second = try start(2) { _ in
            await Task.yield()
            return Self.text("second")
        }
        XCTAssertEqual(answers(for: [2]), [2: "second"])
        XCTAssertNil(second)
    }

    func testAHandlerThatThrowsIsAnsweredWith500AndItsRunnerGoesOn() throws {
        struct Failure: Error {}
        let failing = try start(1) { _ in throw Failure() }
        var status: Int?
        for _ in 0..<10 where status == nil {
            dispatch.completions.take(completions: &completions, jobs: &jobs)
            dispatch.completions.run(&jobs)
            if let first = completions.first { status = Int(first.response.status.code) }
        }
        completions.removeAll()
        XCTAssertEqual(status, 500)
        let next = try start(2) { _ in Self.text("next") }
        XCTAssertEqual(answers(for: [2]), [2: "next"])
        XCTAssertTrue(failing.runner === next.runner, "the same runner answered the next request")
    }

    func testClosingEndsEveryParkedRunnersTask() throws {
        weak var runner: TaskRunner?
        do {
            let ticket = try start(1) { _ in Self.text("done") }
            runner = ticket.runner
        }
        XCTAssertEqual(answers(for: [1]), [1: "done"])
        XCTAssertNotNil(runner, "parked: its task holds it")
        dispatch.close()
        XCTAssertNil(runner, "its task ended and released it")
    }

    func testNoMoreRunnersParkThanTheLimit() throws {
        let gate = Gate()
        let count = dispatch.runners.parkedLimit + 3
        for token in 1...count { _ = try start(UInt64(token)) { _ in await gate.wait(); return Self.text("") } }
        gate.open()
        XCTAssertEqual(answers(for: Set((1...count).map(UInt64.init))).count, count)
        XCTAssertEqual(dispatch.runners.parkedCount, dispatch.runners.parkedLimit, "the others ended")
    }
}

/// Work that waits until the test opens it: suspended tasks, resumed as jobs of the loop's queue.
private final class Gate: @unchecked Sendable {
    // @unchecked: touched only on the thread that runs the queue's jobs (the test's).
    private var waiting: [UnsafeContinuation<Void, Never>] = []
    private var isOpen = false

    nonisolated(nonsending) func wait() async {
        guard !isOpen else { return }
        await withUnsafeContinuation { waiting.append($0) }
    }

    func open() {
        isOpen = true
        waiting.forEach { $0.resume() }
        waiting.removeAll()
    }
}
