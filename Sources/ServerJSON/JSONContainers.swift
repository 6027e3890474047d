// JSONContainers: the three Codable containers of StreamingJSONEncoder. Each
// writes through the encoder, into the frame it was given; primitives are
// written directly, anything else through the encoder's encodeValue.
import FoundationEssentials

struct KeyedJSONContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: StreamingJSONEncoder
    let frame: StreamingJSONEncoder.FrameReference
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws {
        try encoder.enter(frame, key: key)
        encoder.text.append("null")
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        try encoder.enter(frame, key: key)
        encoder.text.append(value ? "true" : "false")
    }

    mutating func encode(_ value: String, forKey key: Key) throws {
        try encoder.enter(frame, key: key)
        encoder.text.appendString(value)
    }

    mutating func encode(_ value: Double, forKey key: Key) throws {
        try encoder.refuseNonFinite(value, key: key)
        try encoder.enter(frame, key: key)
        encoder.text.appendFloatingPoint(value)
    }

    mutating func encode(_ value: Float, forKey key: Key) throws {
        try encoder.refuseNonFinite(value, key: key)
        try encoder.enter(frame, key: key)
        encoder.text.appendFloatingPoint(value)
    }

    mutating func encode(_ value: Int, forKey key: Key) throws { try encodeSigned(Int64(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try encodeSigned(Int64(value), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try encodeSigned(Int64(value), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try encodeSigned(Int64(value), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try encodeSigned(value, key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try encodeUnsigned(UInt64(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try encodeUnsigned(UInt64(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try encodeUnsigned(UInt64(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try encodeUnsigned(UInt64(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try encodeUnsigned(value, key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try encoder.enter(frame, key: key)
        try encoder.encodeValue(value, key: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type,
                                                        forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(KeyedJSONContainer<NestedKey>(encoder: encoder, frame: nested(object: true, key: key),
                                                             codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        UnkeyedJSONContainer(encoder: encoder, frame: nested(object: false, key: key), codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { encoder.giveUp() }

    mutating func superEncoder(forKey key: Key) -> any Encoder { encoder.giveUp() }

    private func nested(object: Bool, key: Key) -> StreamingJSONEncoder.FrameReference {
        // A stale frame is recorded by `enter` (the error cannot be thrown from here); the value is then encoded again.
        guard (try? encoder.enter(frame, key: key)) != nil else { return .invalid }
        return encoder.openNested(object: object, key: key)
    }

    private func encodeSigned(_ value: Int64, _ key: Key) throws {
        try encoder.enter(frame, key: key)
        encoder.text.appendInteger(value)
    }

    private func encodeUnsigned(_ value: UInt64, _ key: Key) throws {
        try encoder.enter(frame, key: key)
        encoder.text.appendInteger(value)
    }
}

struct UnkeyedJSONContainer: UnkeyedEncodingContainer, JSONIntegerWriting {
    let encoder: StreamingJSONEncoder
    let frame: StreamingJSONEncoder.FrameReference
    let codingPath: [any CodingKey]

    var count: Int { encoder.count(of: frame) }

    mutating func encodeNil() throws {
        try encoder.enter(frame)
        encoder.text.append("null")
    }

    mutating func encode(_ value: Bool) throws {
        try encoder.enter(frame)
        encoder.text.append(value ? "true" : "false")
    }

    mutating func encode(_ value: String) throws {
        try encoder.enter(frame)
        encoder.text.appendString(value)
    }

    mutating func encode(_ value: Double) throws {
        try encoder.refuseNonFinite(value, key: IndexKey(count))
        try encoder.enter(frame)
        encoder.text.appendFloatingPoint(value)
    }

    mutating func encode(_ value: Float) throws {
        try encoder.refuseNonFinite(value, key: IndexKey(count))
        try encoder.enter(frame)
        encoder.text.appendFloatingPoint(value)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let index = count
        try encoder.enter(frame)
        try encoder.encodeValue(value, key: IndexKey(index))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let key = IndexKey(count)
        return KeyedEncodingContainer(KeyedJSONContainer<NestedKey>(encoder: encoder, frame: nested(object: true, key: key),
                                                                    codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let key = IndexKey(count)
        return UnkeyedJSONContainer(encoder: encoder, frame: nested(object: false, key: key), codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { encoder.giveUp() }

    private func nested(object: Bool, key: IndexKey) -> StreamingJSONEncoder.FrameReference {
        guard (try? encoder.enter(frame)) != nil else { return .invalid }
        return encoder.openNested(object: object, key: key)
    }

    func encodeSigned(_ value: Int64) throws {
        try encoder.enter(frame)
        encoder.text.appendInteger(value)
    }

    func encodeUnsigned(_ value: UInt64) throws {
        try encoder.enter(frame)
        encoder.text.appendInteger(value)
    }
}

struct SingleValueJSONContainer: SingleValueEncodingContainer, JSONIntegerWriting {
    let encoder: StreamingJSONEncoder
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws {
        try encoder.beginSingleValue(writingNow: true)
        encoder.text.append("null")
    }

    mutating func encode(_ value: Bool) throws {
        try encoder.beginSingleValue(writingNow: true)
        encoder.text.append(value ? "true" : "false")
    }

    mutating func encode(_ value: String) throws {
        try encoder.beginSingleValue(writingNow: true)
        encoder.text.appendString(value)
    }

    mutating func encode(_ value: Double) throws {
        try encoder.refuseNonFinite(value, key: nil)
        try encoder.beginSingleValue(writingNow: true)
        encoder.text.appendFloatingPoint(value)
    }

    mutating func encode(_ value: Float) throws {
        try encoder.refuseNonFinite(value, key: nil)
        try encoder.beginSingleValue(writingNow: true)
        encoder.text.appendFloatingPoint(value)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try encoder.beginSingleValue(writingNow: false)
        try encoder.encodeValue(value, key: nil)
    }

    func encodeSigned(_ value: Int64) throws {
        try encoder.beginSingleValue(writingNow: true)
        encoder.text.appendInteger(value)
    }

    func encodeUnsigned(_ value: UInt64) throws {
        try encoder.beginSingleValue(writingNow: true)
        encoder.text.appendInteger(value)
    }
}

/// The ten integer overloads of the unkeyed and single-value containers, each written
/// through its 64-bit form. (The keyed container's take a key, so it has its own.)
protocol JSONIntegerWriting {
    func encodeSigned(_ value: Int64) throws
    func encodeUnsigned(_ value: UInt64) throws
}

extension JSONIntegerWriting {
    mutating func encode(_ value: Int) throws { try encodeSigned(Int64(value)) }
    mutating func encode(_ value: Int8) throws { try encodeSigned(Int64(value)) }
    mutating func encode(_ value: Int16) throws { try encodeSigned(Int64(value)) }
    mutating func encode(_ value: Int32) throws { try encodeSigned(Int64(value)) }
    mutating func encode(_ value: Int64) throws { try encodeSigned(value) }
    mutating func encode(_ value: UInt) throws { try encodeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { try encodeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { try encodeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { try encodeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { try encodeUnsigned(value) }
}

/// An array element's place in a coding path ("Index 3", as JSONEncoder names it); its name is made only if asked.
struct IndexKey: CodingKey {
    let intValue: Int?

    init(_ index: Int) { intValue = index }
    init?(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { return nil }

    var stringValue: String { "Index \(intValue ?? 0)" }
}
