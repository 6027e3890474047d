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
            let descriptors = list.split(separator: ",").compactMap { Int32($0) }
            let workers = environment(workersVariable).flatMap { Int($0) }
            return InheritedListeners(listeners: try adopt(descriptors, keptByParent: false),
                                      source: .upgrade(oldMaster: oldMaster, workers: workers))
        }
        if let pid = environment("LISTEN_PID").flatMap({ pid_t($0) }), pid == getpid(),
           let count = environment("LISTEN_FDS").flatMap({ Int32($0) }), count > 0 {
            let descriptors = (0..<count).map { firstActivatedDescriptor + $0 }
            return InheritedListeners(listeners: try adopt(descriptors, keptByParent: true), source: .socketActivation)
        }
        return nil
    }

    /// The variables a new master reads, for the listeners handed to it.
    static func environmentForNewMaster(_ listeners: [Listener], workers: Int) -> [(String, String)] {
        [(listenersVariable, listeners.map { String($0.fd) }.joined(separator: ",")),
         (oldMasterVariable, String(getpid())),
         (workersVariable, String(workers))]
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
