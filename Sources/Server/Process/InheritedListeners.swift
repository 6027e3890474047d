// InheritedListeners: listening sockets this process did not open itself.
// Two sources, checked in this order:
// - a binary upgrade: the old master exec'd us with its listeners left open
//   and their numbers in SWIFT_PREFORK_LISTENERS (and its pid in
//   SWIFT_PREFORK_OLD_MASTER, which must be our parent);
// - systemd socket activation (sd_listen_fds(3)): LISTEN_PID is our pid and
//   LISTEN_FDS counts descriptors starting at 3.
// The variables are removed once read, so they are never passed on to a worker
// or to a later new master by mistake.
import Glibc
import ServerSystem

struct InheritedListeners {
    enum Source: Equatable {
        /// From the old master `pid`, which ran `workers` workers.
        case upgrade(oldMaster: pid_t, workers: Int?)
        case socketActivation
    }

    let listeners: [Listener]
    let source: Source
    /// From a binary upgrade: the indices into `listeners` of each worker slot's set
    /// (one socket per configured listener); nil when the passing process said nothing
    /// of sets (socket activation, an older master), and sets are matched by address.
    var sets: [[Int]]? = nil

    static let listenersVariable = "SWIFT_PREFORK_LISTENERS"
    static let oldMasterVariable = "SWIFT_PREFORK_OLD_MASTER"
    static let workersVariable = "SWIFT_PREFORK_WORKERS"
    /// sd_listen_fds(3): the first passed descriptor.
    static let firstActivatedDescriptor: Int32 = 3

    /// The inherited listeners, or nil when this process inherited none.
    static func take() throws(SystemError) -> InheritedListeners? {
        defer {
            for name in [listenersVariable, oldMasterVariable, workersVariable, "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
                unsetenv(name)
            }
        }
        if let list = environment(listenersVariable), let oldMaster = environment(oldMasterVariable).flatMap({ pid_t($0) }),
           oldMaster == getppid() {
            // "3,4;5,6": the sets of two slots, of two listeners each ("3" alone: one set of one).
            let groups = list.split(separator: ";").map { $0.split(separator: ",").compactMap { Int32($0) } }
            let descriptors = groups.flatMap { $0 }
            var sets: [[Int]] = []
            var offset = 0
            for group in groups {
                sets.append(Array(offset..<offset + group.count))
                offset += group.count
            }
            let workers = environment(workersVariable).flatMap { Int($0) }
            return InheritedListeners(listeners: try adopt(descriptors, keptByParent: false),
                                      source: .upgrade(oldMaster: oldMaster, workers: workers),
                                      sets: list.contains(";") ? sets : nil)
        }
        if let pid = environment("LISTEN_PID").flatMap({ pid_t($0) }), pid == getpid(),
           let count = environment("LISTEN_FDS").flatMap({ Int32($0) }), count > 0 {
            let descriptors = (0..<count).map { firstActivatedDescriptor + $0 }
            return InheritedListeners(listeners: try adopt(descriptors, keptByParent: true), source: .socketActivation)
        }
        return nil
    }

    /// The variables a new master reads, for the listeners handed to it.
    static func environmentForNewMaster(_ listeners: [ListenerSet], workers: Int) -> [(String, String)] {
        // Sets of one socket as before ("3,4,5"), which any earlier binary reads; sets of several
        // separated by ";" with a trailing one ("3,4;5,6;"), so even a single set reads as one.
        let single = listeners.allSatisfy { $0.members.count == 1 }
        let list = single ? listeners.map { String($0.fd) }.joined(separator: ",")
            : listeners.map { $0.members.map { String($0.fd) }.joined(separator: ",") + ";" }.joined()
        return [(listenersVariable, list), (oldMasterVariable, String(getpid())), (workersVariable, String(workers))]
    }

    /// - Parameter keptByParent: systemd keeps its sockets for the next activation; an old master exits.
    private static func adopt(_ descriptors: [Int32], keptByParent: Bool) throws(SystemError) -> [Listener] {
        var adopted: [Listener] = []
        for fd in descriptors { adopted.append(try Listener.adopt(fd: fd, outlivesServer: keptByParent)) }
        return adopted
    }

    private static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
