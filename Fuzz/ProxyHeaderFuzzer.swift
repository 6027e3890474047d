// ProxyHeaderFuzzer: the libFuzzer entry point for the PROXY protocol header
// parser (built by scripts/fuzz --target proxy with the pure sources, not by
// SwiftPM). Every input is parsed whole, then every prefix of it is parsed as
// if that much had arrived so far; any broken invariant traps, which libFuzzer
// reports as a crash with the input that caused it:
// - a complete header never claims more bytes than it was given, nor more than
//   the parser's bound, and parses the same from exactly its own bytes;
// - a prefix is never refused when the whole input is accepted (a header split
//   across reads must not be refused early), and never accepted differently.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let whole = ProxyHeaderParser.parse(bytes)
    if case .complete(let header) = whole {
        precondition(header.length <= size && header.length <= ProxyHeaderParser.maximumLength, "header longer than its input")
        precondition(ProxyHeaderParser.parse(UnsafeRawBufferPointer(rebasing: bytes[..<header.length])) == whole,
                     "the header alone parses differently")
    }
    // Prefixes up to the bound: what a connection would see arriving byte by byte.
    for end in 0..<min(size, ProxyHeaderParser.maximumLength + 1) {
        let prefix = ProxyHeaderParser.parse(UnsafeRawBufferPointer(rebasing: bytes[..<end]))
        switch (prefix, whole) {
        case (.invalid, .complete), (.invalid, .incomplete):
            preconditionFailure("a prefix of \(end) bytes is refused, the whole input is not")
        case (.complete(let early), .complete(let late)):
            precondition(early == late, "a prefix parses to another header")
        case (.complete, _):
            preconditionFailure("a prefix is accepted, the whole input is not")
        default:
            break
        }
    }
    return 0
}
