// ServerConfiguration+Check: the part of `server -t` (--check-configuration) that
// the library owns: every check the master makes before it serves, run without
// binding, forking or serving, so an operator can test a change before a reload.
import ServerSystem

extension ServerConfiguration {
    /// Throws, as one line, the first thing that would stop this configuration from starting:
    /// a setting or a combination of listeners (``validate()``), a `--user` that does not exist
    /// or cannot be adopted, an access log file that cannot be opened for appending. The log is
    /// opened as the master opens it at start (created if absent, as `nginx -t` creates its logs).
    ///
    /// Listeners are checked for their syntax and how they combine, not bound: the running
    /// server usually holds their ports, and binding them here would fail exactly then.
    public func checkBeforeServing() throws(ConfigurationError) {
        try validate()
        if let user {
            do {
                _ = try Credentials.lookUp(user)
            } catch {
                throw ConfigurationError(error.description)
            }
        }
        do {
            try accessLog.checkOpens()
        } catch {
            throw ConfigurationError("--access-log: \(error)")
        }
    }
}
