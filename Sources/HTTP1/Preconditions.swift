// Preconditions: evaluating If-Match, If-Unmodified-Since, If-None-Match and
// If-Modified-Since against a representation, in the order of RFC 9110 §13.2.2.
import ServerSystem

/// What the preconditions decide.
public enum PreconditionOutcome: Equatable, Sendable {
    /// Every precondition holds (or there is none): answer as usual (Range and If-Range next).
    case proceed
    /// 304 Not Modified: the client's copy is current (GET and HEAD only, §15.4.5).
    case notModified
    /// 412 Precondition Failed (§15.5.13).
    case preconditionFailed
}

public enum Preconditions {
    /// The outcome for a request with `fields`, for a representation with `entityTag` (its
    /// strong tag, with quotes) last modified at `modified` seconds since the epoch.
    /// - Parameter isGetOrHead: If-Modified-Since applies only to GET and HEAD, and a failed
    ///   If-None-Match answers 304 for them but 412 for other methods (§13.1.2, §13.1.3).
    public static func evaluate(_ fields: ConditionalFields, entityTag: UnsafeRawBufferPointer, modified: Int,
                                isGetOrHead: Bool) -> PreconditionOutcome {
        // §13.2.2 step 1; step 2 only when If-Match is absent.
        if let ifMatch = fields.ifMatch {
            if !EntityTagMatch.matches(ifMatch, current: entityTag, .strong) { return .preconditionFailed }
        } else if let ifUnmodifiedSince = fields.ifUnmodifiedSince,
                  let date = HTTPDate.parse(ifUnmodifiedSince), modified > date {
            // An invalid date is ignored (§13.1.4).
            return .preconditionFailed
        }
        // Step 3; step 4 only when If-None-Match is absent.
        if let ifNoneMatch = fields.ifNoneMatch {
            if EntityTagMatch.matches(ifNoneMatch, current: entityTag, .weak) {
                return isGetOrHead ? .notModified : .preconditionFailed
            }
        } else if isGetOrHead, let ifModifiedSince = fields.ifModifiedSince,
                  let date = HTTPDate.parse(ifModifiedSince), modified <= date, date <= Clock.wallClockSeconds() {
            // §13.1.3: not modified when the last modification is no later than the date; an
            // invalid date is ignored, and so is one later than the server's clock (the clock is
            // read only for a date that would answer 304). (nginx's default, `if_modified_since
            // exact`, wants equality.)
            return .notModified
        }
        return .proceed
    }

    /// Whether If-Range lets a Range apply (§13.1.5): an entity tag must be the current strong
    /// tag; a date must equal Last-Modified exactly (a Last-Modified of one whole second is
    /// only weak unless equal, §8.8.2.2). Without If-Range the Range applies.
    public static func rangeApplies(_ fields: ConditionalFields, entityTag: UnsafeRawBufferPointer, modified: Int) -> Bool {
        guard let ifRange = fields.ifRange else { return true }
        if ifRange.last == UInt8(ascii: "\"") {
            return EntityTagMatch.isSameStrongTag(ifRange, current: entityTag)
        }
        return HTTPDate.parse(ifRange) == modified
    }
}
