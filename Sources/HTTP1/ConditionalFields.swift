// ConditionalFields: the request header fields that make a request conditional
// (RFC 9110 §13.1) or partial (§14.2), found in one pass over the fields. A
// request with none of them costs one byte comparison per field.

/// The values of If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since,
/// If-Range and Range, each the first field of its name; they point into the
/// request, so they are valid only while it is.
public struct ConditionalFields {
    public var ifMatch: UnsafeRawBufferPointer?
    public var ifNoneMatch: UnsafeRawBufferPointer?
    public var ifModifiedSince: UnsafeRawBufferPointer?
    public var ifUnmodifiedSince: UnsafeRawBufferPointer?
    public var ifRange: UnsafeRawBufferPointer?
    public var range: UnsafeRawBufferPointer?

    public init() {}

    /// The fields of `request`.
    public init(_ request: Request) {
        let base = request.base
        for field in request.fields {
            // Every name here starts with "i" or "r": the common fields are passed over after one comparison.
            let first = base[Int(field.name.start)] | 0x20
            guard first == UInt8(ascii: "i") || first == UInt8(ascii: "r") else { continue }
            let value = UnsafeRawBufferPointer(start: base + Int(field.value.start), count: Int(field.value.count))
            if Bytes.equalIgnoringCase(base, field.name, "range") {
                range = range ?? value
            } else if Bytes.equalIgnoringCase(base, field.name, "if-match") {
                ifMatch = ifMatch ?? value
            } else if Bytes.equalIgnoringCase(base, field.name, "if-none-match") {
                ifNoneMatch = ifNoneMatch ?? value
            } else if Bytes.equalIgnoringCase(base, field.name, "if-modified-since") {
                ifModifiedSince = ifModifiedSince ?? value
            } else if Bytes.equalIgnoringCase(base, field.name, "if-unmodified-since") {
                ifUnmodifiedSince = ifUnmodifiedSince ?? value
            } else if Bytes.equalIgnoringCase(base, field.name, "if-range") {
                ifRange = ifRange ?? value
            }
        }
    }

    /// No precondition and no Range: the plain answer applies.
    public var isEmpty: Bool {
        ifMatch == nil && ifNoneMatch == nil && ifModifiedSince == nil && ifUnmodifiedSince == nil && range == nil
    }
}
