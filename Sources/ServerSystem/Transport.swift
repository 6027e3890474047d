// Transport: how a connection moves bytes. The plain socket is the first case;
// TLS is the next (a later issue). Code that moves bytes is generic over it
// (`<T: Transport>`), so each case is specialised at compile time: no
// existential box and no witness-table call per read or write on the hot path.

/// A connected byte stream a connection reads from and writes to.
package protocol Transport: ~Copyable {
    /// The descriptor the event loop registers with epoll.
    var fd: Int32 { get }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> ReadOutcome
    /// Sends bytes; `moreFollows` lets a transport hold them back for the next send (MSG_MORE).
    func write(_ bytes: UnsafeRawBufferPointer, moreFollows: Bool) throws(SystemError) -> WriteOutcome
    /// Sends up to `count` bytes of the open file `file` from `offset`, advancing `offset` by what was sent.
    /// A transport that must transform bytes (TLS) reads the file itself; the socket lets the kernel copy it.
    func sendFile(from file: Int32, offset: inout Int, count: Int) throws(SystemError) -> WriteOutcome
    func shutdownWrite()
    func resetOnClose()
    func close()
}

extension Socket: Transport {}
