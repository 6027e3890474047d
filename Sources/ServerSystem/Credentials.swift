// Credentials: `--user NAME`. The master binds as whoever started it (root, for
// ports below 1024) and each worker drops to the user right after fork, before
// it touches a request: supplementary groups first, then the group, then the
// user, since once the uid is no longer root the other two can no longer change.
import Glibc

package struct Credentials: Sendable {
    package let name: String
    package let uid: uid_t
    package let gid: gid_t

    /// Why a user cannot be adopted, in one line.
    package struct LookUpError: Error, CustomStringConvertible, Equatable, Sendable {
        package let description: String
    }

    /// Looks the user up in the password database; throws a one-line reason.
    package static func lookUp(_ name: String) throws(LookUpError) -> Credentials {
        guard let entry = getpwnam(name) else { throw LookUpError(description: "--user: no user named '\(name)'") }
        let credentials = Credentials(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
        guard geteuid() == 0 || geteuid() == credentials.uid else {
            throw LookUpError(description: "--user \(name) needs the server started as root (or as \(name))")
        }
        return credentials
    }

    /// Becomes this user, for good. Nothing to do when the process already is it.
    package func adopt() throws(SystemError) {
        guard geteuid() != uid || getegid() != gid else { return }
        _ = try blockingSystemCall("initgroups(\(name))", { initgroups(name, gid) })
        _ = try blockingSystemCall("setgid(\(gid))", { setgid(gid) })
        _ = try blockingSystemCall("setuid(\(uid))", { setuid(uid) })
    }
}
