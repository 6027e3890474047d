// SeriesKey: a swift-metrics label and dimensions as the text of one Prometheus
// series, `name{label="value",...}`, which is also its identity in the shared
// series table. Names are made valid (exposition format: [a-zA-Z_:][a-zA-Z0-9_:]*
// for metrics, no colon for labels), labels sorted by name so the same
// dimensions in another order are the same series, values escaped (`\\`, `\"`,
// `\n`). Reading back, a key any worker could have written is checked against
// the same grammar, so garbage never reaches a scrape as broken text.

package enum SeriesKey {
    /// The key for a metric, or nil when it does not fit `MetricsRegion.keyCapacity`.
    package static func make(label: String, dimensions: [(String, String)], kind: SeriesKind) -> [UInt8]? {
        var name = sanitized(label, allowColon: true)
        if kind == .counter, !name.hasSuffix("_total") { name += "_total" }
        var key = Array(name.utf8)
        var seen = Set<String>()
        let labels = dimensions.map { (sanitized($0.0, allowColon: false), $0.1) }
            .filter { seen.insert($0.0).inserted }
            .sorted { $0.0 < $1.0 }
        if !labels.isEmpty {
            key.append(UInt8(ascii: "{"))
            for (index, (labelName, value)) in labels.enumerated() {
                if index > 0 { key.append(UInt8(ascii: ",")) }
                key += Array(labelName.utf8) + Array("=\"".utf8) + escaped(value) + [UInt8(ascii: "\"")]
            }
            key.append(UInt8(ascii: "}"))
        }
        return key.count <= MetricsRegion.keyCapacity ? key : nil
    }

    /// The metric name part of a key (up to its first `{`), for the log line when a key is refused.
    package static func name(of label: String, kind: SeriesKind) -> String {
        let name = sanitized(label, allowColon: true)
        return kind == .counter && !name.hasSuffix("_total") ? name + "_total" : name
    }

    /// Splits a key read from the shared table into its name and label part (`{...}` or
    /// empty), or nil when it is not a series this module could have written.
    static func parse(_ key: [UInt8]) -> (name: String, labels: String)? {
        let brace = key.firstIndex(of: UInt8(ascii: "{")) ?? key.endIndex
        let name = key[..<brace]
        guard let first = name.first, isNameStart(first), name.allSatisfy({ isNameByte($0, allowColon: true) }) else {
            return nil
        }
        let labels = key[brace...]
        guard labels.isEmpty || labelsAreValid(labels) else { return nil }
        return (String(decoding: name, as: UTF8.self), String(decoding: labels, as: UTF8.self))
    }

    // MARK: Writing

    private static func sanitized(_ text: String, allowColon: Bool) -> String {
        var bytes = text.utf8.map { isNameByte($0, allowColon: allowColon) ? $0 : UInt8(ascii: "_") }
        if bytes.first.map(isNameStart) != true { bytes.insert(UInt8(ascii: "_"), at: 0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func escaped(_ value: String) -> [UInt8] {
        var bytes: [UInt8] = []
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\n"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            // Other control bytes have no escape in the format: a space stands in.
            case ..<0x20, 0x7F: bytes.append(UInt8(ascii: " "))
            default: bytes.append(byte)
            }
        }
        return bytes
    }

    // MARK: Reading back

    private static func isNameStart(_ byte: UInt8) -> Bool {
        (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z")) || byte == UInt8(ascii: "_")
    }

    private static func isNameByte(_ byte: UInt8, allowColon: Bool) -> Bool {
        isNameStart(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (allowColon && byte == UInt8(ascii: ":"))
    }

    /// `{name="value",...}` with escaped values and nothing a line break could hide in.
    private static func labelsAreValid(_ text: ArraySlice<UInt8>) -> Bool {
        guard text.count >= 2, text.first == UInt8(ascii: "{"), text.last == UInt8(ascii: "}") else { return false }
        var index = text.startIndex + 1
        let end = text.endIndex - 1
        while index < end {
            let nameStart = index
            while index < end, isNameByte(text[index], allowColon: false) { index += 1 }
            guard index > nameStart, isNameStart(text[nameStart]), index + 1 < end,
                  text[index] == UInt8(ascii: "="), text[index + 1] == UInt8(ascii: "\"") else { return false }
            index += 2
            while index < end, text[index] != UInt8(ascii: "\"") {
                let byte = text[index]
                if byte < 0x20 || byte == 0x7F { return false }
                if byte == UInt8(ascii: "\\") {
                    guard index + 1 < end, [UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "n")].contains(text[index + 1]) else {
                        return false
                    }
                    index += 1
                }
                index += 1
            }
            guard index < end else { return false }  // the value's closing quote
            index += 1
            if index < end {
                guard text[index] == UInt8(ascii: ","), index + 1 < end else { return false }
                index += 1
            }
        }
        return true
    }
}
