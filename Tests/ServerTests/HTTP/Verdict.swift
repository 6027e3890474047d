// What the parser tables compare: a ParseResult reduced to its outcome.
@testable import HTTP1
@testable import Server

/// A ParseResult reduced to what the table compares.
enum Verdict: Equatable, CustomStringConvertible {
    case incomplete
    case accepted
    case rejected(Int)

    init(_ result: ParseResult) {
        switch result {
        case .incomplete: self = .incomplete
        case .complete, .head: self = .accepted  // .head comes only from parseHead
        case .invalid(let status): self = .rejected(status.code)
        }
    }

    var description: String {
        switch self {
        case .incomplete: return "incomplete"
        case .accepted: return "accepted"
        case .rejected(let code): return "rejected(\(code))"
        }
    }
}
