// FuzzScript: how the connection fuzzer reads its input. Byte 0 sets the run up
// (limits, response sizes, trigger mode, body rate, socket buffers, how the
// client ends), byte 1 is the length S of the script, the next S bytes are one
// client action each, and the rest is the payload the client writes. Every
// input means something: a short input is padded with zero settings, and a
// script longer than what is left simply has no payload.

/// How the server and the sockets are set up for one run.
import HTTP1
import ServerSystem

struct FuzzSetup {
    let limits: RequestLimits
    /// The handler's response body sizes, used in turn (call n gets `responseSizes[n % count]`).
    let responseSizes: [Int]
    let mode: TriggerMode
    let bodyRate: MinimumBodyRate
    /// At the end the client goes silent (reads nothing, never hangs up) instead of reading
    /// everything and half-closing: then the timeouts alone must end the connection.
    let endsSilent: Bool
    /// Both ends get the smallest socket buffers, so a few KiB fill them and backpressure is the norm.
    let smallSocketBuffers: Bool

    /// The server's defaults, or limits so small that short inputs reach the 413, 414 and 431 paths.
    private static let limitSets = [
        RequestLimits(),
        RequestLimits(maxRequestLineBytes: 48, maxHeaderBytes: 160, maxHeaderCount: 6, maxBodyBytes: 300),
    ]
    /// The last set mixes in a response larger than the driver's queued-output bound on its own.
    private static let responseSizeSets = [[3], [600], [5000], [3, 600, 40_000, 5000]]
    private static let bodyRates = [
        MinimumBodyRate(),
        MinimumBodyRate(bytesPerSecond: 0, graceMilliseconds: 0),
        MinimumBodyRate(bytesPerSecond: 1000, graceMilliseconds: 100),
        MinimumBodyRate(),
    ]

    init(_ byte: UInt8) {
        limits = Self.limitSets[Int(byte & 1)]
        responseSizes = Self.responseSizeSets[Int(byte >> 1 & 3)]
        mode = byte & 8 == 0 ? .level : .edge
        bodyRate = Self.bodyRates[Int(byte >> 4 & 3)]
        endsSilent = byte & 0x40 != 0
        smallSocketBuffers = byte & 0x80 == 0
    }
}

/// One thing the client does; after each, the loop serves the connection until it settles.
enum FuzzAction: Equatable {
    /// Send the next bytes of the payload, as many of them as the socket takes.
    case write(Int)
    /// Read up to this many bytes of responses.
    case read(Int)
    /// Let this many milliseconds pass, then fire the timeouts that are due.
    case advanceClock(Int)
    /// shutdown(SHUT_WR): the client has no more to send.
    case halfClose
    /// The worker starts a graceful drain (SIGQUIT).
    case beginDrain
    /// The client closes its socket, whatever is unread: the server sees a reset.
    case abandon
    /// Read everything the socket holds.
    case readAll

    var isWrite: Bool {
        if case .write = self { return true }
        return false
    }

    /// Sizes for writes and reads: every small count (the splits parsers get wrong), then
    /// up to the socket buffers and past them, then "all".
    private static let sizes = [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 32, 40, 48, 64, 80, 96,
                                128, 160, 256, 384, 512, 1024, 2048, 4096, 8192, 16_384, 32_768, Int.max]
    /// Steps of the clock (ms), clustered around each timeout (keep-alive 5 s, header, body
    /// and write 10 s, linger 2 s), the body rate's grace periods and the 30 s drain.
    private static let clockSteps = [0, 1, 2, 5, 10, 50, 99, 100, 101, 250, 500, 999, 1000, 1001, 1999, 2000,
                                     2001, 3000, 4999, 5000, 5001, 6000, 9999, 10_000, 10_001, 12_000, 15_000,
                                     20_000, 29_999, 30_000, 30_001, 60_000]

    /// The top three bits choose the action, the low five its size.
    init(_ byte: UInt8) {
        let argument = Int(byte & 31)
        switch byte >> 5 {
        case 0, 1: self = .write(Self.sizes[argument])
        case 2: self = .read(Self.sizes[argument])
        case 3: self = .advanceClock(Self.clockSteps[argument])
        case 4: self = argument < 16 ? .halfClose : .beginDrain
        case 5: self = argument < 4 ? .abandon : .readAll
        default: self = argument < 16 ? .readAll : .write(Self.sizes[argument])
        }
    }
}

/// A decoded input. The payload points into libFuzzer's input: valid for one run only.
struct FuzzScript {
    let setup: FuzzSetup
    let actions: [FuzzAction]
    let payload: UnsafeRawBufferPointer

    init(_ input: UnsafeRawBufferPointer) {
        setup = FuzzSetup(input.first ?? 0)
        let scriptLength = input.count > 1 ? Int(input[1]) : 0
        let scriptEnd = min(input.count, 2 + scriptLength)
        actions = input.count > 2 ? input[2..<scriptEnd].map(FuzzAction.init) : []
        payload = UnsafeRawBufferPointer(rebasing: input[scriptEnd...])
    }
}
