// WarmUp: a stand-in for an embedder's per-worker set-up of unknown length
// (loading a cache, connecting to a database), during which a balancer must
// not send the server traffic: /readyz answers 503 until every worker is past
// it. When the environment variable EXAMPLE_WARM_UP_DIRECTORY names a
// directory, each worker, before it serves, waits until a file named for its
// pid appears there, so a test decides when each worker is ready.
import Glibc
import ServerSystem

enum WarmUp {
    /// How often a waiting worker looks for its file.
    static let pollMicroseconds: UInt32 = 10_000

    /// Returns once this worker may serve (at once without the variable).
    static func waitIfAsked() {
        guard let directory = getenv("EXAMPLE_WARM_UP_DIRECTORY").map({ String(cString: $0) }) else { return }
        let token = "\(directory)/\(getpid())"
        while (try? Files.read(token)) == nil { usleep(pollMicroseconds) }
    }
}
