// StreamingJSONEncoder: an Encoder that writes JSON text as the values come,
// with no tree of values in between (Foundation's JSONEncoder builds one, then
// walks it: most of its time for a list of small records).
//
// Writing as the values come works because Codable code fills one container
// at a time, innermost first: a container is open from its "{" or "[" until a
// container further out writes again, which closes it. Codable allows more
// (writing to a container after a container nested in an older sibling was
// opened, superEncoder); for that the encoder gives up (`Unsupported`) and
// JSONBodyEncoder encodes the value again with Foundation's JSONEncoder, so the
// answer is the same JSON either way.
//
// The encoder follows JSONEncoder's default strategies: Data as Base64, URL as
// its absolute string, Decimal as a number, Date as the Double Date encodes,
// NaN and the infinities refused with EncodingError. One difference: a key
// encoded twice into one object appears twice (JSONEncoder keeps the last).
import FoundationEssentials

final class StreamingJSONEncoder: Encoder {
    /// Thrown when the Codable calls take a shape this encoder does not stream.
    struct Unsupported: Error {}

    /// An open container ("{" or "[" written, the closing one not yet).
    struct Frame {
        let id: Int
        let isObject: Bool
        /// Members or elements written so far: a comma goes before every one after the first.
        var count = 0
        /// Whether opening it appended a key to `codingPath` (a nested container's).
        let pushedKey: Bool
    }

    /// What a container holds to find its frame again: stale once that frame has closed.
    struct FrameReference {
        let depth: Int
        let id: Int
        static let invalid = FrameReference(depth: -1, id: -1)
    }

    @exclusivity(unchecked) var text: JSONText
    @exclusivity(unchecked) var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    @exclusivity(unchecked) private var frames: [Frame] = []
    @exclusivity(unchecked) private var nextFrameID = 0
    /// The depth at which the value being encoded opens its container, if it opens one.
    @exclusivity(unchecked) private var valueDepth = 0
    /// Whether nothing of the value being encoded has been written yet.
    @exclusivity(unchecked) private var valuePending = true
    /// Set once a call took a shape this encoder does not stream; non-throwing calls can only record it.
    @exclusivity(unchecked) private var unsupported = false

    init(capacity: Int) {
        text = JSONText(capacity: capacity)
    }

    /// The whole text for `value`.
    func encodeTopLevel<T: Encodable>(_ value: T) throws -> [UInt8] {
        try encodeValue(value, key: nil, emptyAs: nil)
        if valuePending {
            throw EncodingError.invalidValue(value, EncodingError.Context(
                codingPath: [], debugDescription: "Top-level \(T.self) did not encode any values."))
        }
        return text.bytes
    }

    // MARK: Encoder

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(KeyedJSONContainer<Key>(encoder: self, frame: containerForValue(object: true),
                                                       codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        UnkeyedJSONContainer(encoder: self, frame: containerForValue(object: false), codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueJSONContainer(encoder: self, codingPath: codingPath)
    }

    /// The container of the value being encoded: opened now, or the one it opened before (a class
    /// and its superclass both asking for the keyed container of one object).
    private func containerForValue(object: Bool) -> FrameReference {
        guard !unsupported else { return .invalid }
        if valuePending {
            valuePending = false
            return open(object: object, pushingKey: nil)
        }
        guard valueDepth < frames.count, frames[valueDepth].isObject == object else {
            unsupported = true
            return .invalid
        }
        close(downTo: valueDepth + 1)
        return FrameReference(depth: valueDepth, id: frames[valueDepth].id)
    }

    // MARK: Writing, for the containers

    /// Readies `frame` for its next member or element: deeper containers closed, the comma written.
    func enter(_ frame: FrameReference) throws {
        guard !unsupported, frame.depth >= valueDepth, isOpen(frame) else {
            unsupported = true
            throw Unsupported()
        }
        close(downTo: frame.depth + 1)
        if frames[frame.depth].count > 0 { text.append(UInt8(ascii: ",")) }
        frames[frame.depth].count += 1
    }

    /// Readies `frame` and writes `key` and the colon.
    func enter(_ frame: FrameReference, key: some CodingKey) throws {
        try enter(frame)
        text.appendString(key.stringValue)
        text.append(UInt8(ascii: ":"))
    }

    func count(of frame: FrameReference) -> Int {
        isOpen(frame) ? frames[frame.depth].count : 0
    }

    /// Whether `frame` is still open (not closed since, nor a stale or invalid reference).
    private func isOpen(_ frame: FrameReference) -> Bool {
        frame.depth >= 0 && frame.depth < frames.count && frames[frame.depth].id == frame.id
    }

    /// A container nested in `frame` (already entered): opened at once.
    func openNested(object: Bool, key: any CodingKey) -> FrameReference {
        open(object: object, pushingKey: key)
    }

    /// Marks the encoder as unable to stream what the caller asked (superEncoder): the value is encoded again by Foundation.
    func giveUp() -> any Encoder {
        unsupported = true
        return self
    }

    /// Writes `value` where a value is expected. Foundation's special cases first, then the value's own encode(to:).
    /// - Parameter emptyAs: what to write if the value writes nothing (JSONEncoder writes `{}`); nil at the top level.
    func encodeValue<T: Encodable>(_ value: T, key: (any CodingKey)?, emptyAs empty: StaticString? = "{}") throws {
        if writeFoundationValue(value) {
            // Written whole: no longer pending (a single-value container's caller, or the top level,
            // would otherwise take it for a value that wrote nothing).
            valuePending = false
            return
        }
        let outerDepth = valueDepth
        let outerPathCount = codingPath.count
        if let key { codingPath.append(key) }
        valueDepth = frames.count
        valuePending = true
        try value.encode(to: self)
        if unsupported { throw Unsupported() }
        close(downTo: valueDepth)
        if valuePending, let empty {
            text.append(empty)
            valuePending = false
        }
        valueDepth = outerDepth
        codingPath.removeLast(codingPath.count - outerPathCount)
    }

    /// JSONEncoder's special cases: Data as Base64, URL as its absolute string, Decimal as a number.
    /// Whether `value` was one (and is written).
    private func writeFoundationValue<T: Encodable>(_ value: T) -> Bool {
        if T.self == Data.self {
            text.appendString((value as! Data).base64EncodedString())
        } else if T.self == URL.self {
            text.appendString((value as! URL).absoluteString)
        } else if T.self == Decimal.self {
            text.appendVerbatim((value as! Decimal).description)
        } else {
            return false
        }
        return true
    }

    /// For a single-value container: checks that nothing of the value being encoded is written yet.
    /// - Parameter writingNow: whether the caller writes the value itself (a primitive) rather than through `encodeValue`.
    func beginSingleValue(writingNow: Bool) throws {
        guard !unsupported else { throw Unsupported() }
        guard valuePending, frames.count == valueDepth else {
            throw EncodingError.invalidValue((), EncodingError.Context(
                codingPath: codingPath, debugDescription: "A single value container was asked for a second value."))
        }
        if writingNow { valuePending = false }
    }

    func refuseNonFinite<F: BinaryFloatingPoint>(_ value: F, key: (any CodingKey)?) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, EncodingError.Context(
                codingPath: codingPath + (key.map { [$0] } ?? []),
                debugDescription: "Unable to encode \(F.self).\(value) directly in JSON."))
        }
    }

    private func open(object: Bool, pushingKey key: (any CodingKey)?) -> FrameReference {
        text.append(object ? UInt8(ascii: "{") : UInt8(ascii: "["))
        if let key { codingPath.append(key) }
        nextFrameID += 1
        frames.append(Frame(id: nextFrameID, isObject: object, pushedKey: key != nil))
        return FrameReference(depth: frames.count - 1, id: nextFrameID)
    }

    private func close(downTo depth: Int) {
        while frames.count > depth {
            let frame = frames.removeLast()
            text.append(frame.isObject ? UInt8(ascii: "}") : UInt8(ascii: "]"))
            if frame.pushedKey { codingPath.removeLast() }
        }
    }
}
