// PIDFile: the master's pid in a file, for service managers and operators.
// Written atomically (a reader never sees it half-written) and removed on exit,
// but only while it still names this process. A binary upgrade follows nginx:
// the old master renames its file to `PATH.oldbin`, the new master writes
// `PATH`, and each removes only its own, so the old one's exit leaves the new
// one's file alone; a failed upgrade renames `PATH.oldbin` back.
import Glibc
import ServerSystem

struct PIDFile {
    let path: String
    var oldBinaryPath: String { path + ".oldbin" }

    func write() throws(SystemError) {
        try Files.writeAtomically(path, "\(getpid())\n")
    }

    /// Before starting a new master: this master's file becomes `PATH.oldbin`.
    func moveAside() {
        guard names(path, getpid()) else { return }
        try? Files.rename(path, to: oldBinaryPath)
    }

    /// The new master failed: the file is this master's again.
    func moveBack() {
        guard names(oldBinaryPath, getpid()) else { return }
        try? Files.rename(oldBinaryPath, to: path)
    }

    /// On exit: whichever of the two files still names this process goes.
    func remove() {
        for candidate in [path, oldBinaryPath] where names(candidate, getpid()) { Files.remove(candidate) }
    }

    private func names(_ file: String, _ pid: pid_t) -> Bool {
        guard let text = (try? Files.read(file)) ?? nil else { return false }
        return text.split(separator: "\n").first.flatMap { Int32($0) } == pid
    }
}
