// What an embedder gets with `import Server`: the handler API (Request,
// Response, HTTPStatus, ...) lives in HTTP1, and SystemError, Listener and
// ExitStatus in ServerSystem. Re-exported whole rather than as typealiases, so
// a public type added below is never missing here (NIO does the same).
@_exported import HTTP1
@_exported import ServerSystem
@_exported import TLS
