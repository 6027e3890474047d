// PrometheusText: a strict little reader of the text exposition format, enough
// to check /metrics: every line is a comment (# HELP / # TYPE) or a sample
// `name{label="value",...} number`, and every sample's family was declared.
import XCTest

struct PrometheusText {
    struct Sample {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    private(set) var samples: [Sample] = []
    private(set) var types: [String: String] = [:]

    /// Parses `text`, throwing on the first line that is not valid exposition format.
    init(_ text: String) throws {
        guard text.hasSuffix("\n") else { throw LineError("the exposition must end with a newline") }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            try read(String(line))
        }
    }

    private mutating func read(_ line: String) throws {
        if line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            guard parts.count == 4, ["counter", "gauge", "summary"].contains(parts[3]) else { throw LineError(line) }
            types[String(parts[2])] = String(parts[3])
        } else if line.hasPrefix("# HELP ") {
            guard line.split(separator: " ", maxSplits: 3).count == 4 else { throw LineError(line) }
        } else {
            let sample = try Self.sample(line)
            guard let type = types[sample.name] ?? Self.summaryFamily(of: sample.name, types) else {
                throw LineError("no # TYPE before \(line)")
            }
            guard type != "counter" || sample.name.hasSuffix("_total") else { throw LineError("counter without _total: \(line)") }
            samples.append(sample)
        }
    }

    /// A summary's samples are named for its family plus `_count` or `_sum`.
    private static func summaryFamily(of name: String, _ types: [String: String]) -> String? {
        for suffix in ["_count", "_sum"] where name.hasSuffix(suffix) {
            if types[String(name.dropLast(suffix.count))] == "summary" { return "summary" }
        }
        return nil
    }

    private static func sample(_ line: String) throws -> Sample {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
            throw LineError(line)
        }
        let series = line[..<space]
        guard let brace = series.firstIndex(of: "{") else {
            guard isMetricName(series) else { throw LineError(line) }
            return Sample(name: String(series), labels: [:], value: value)
        }
        guard series.hasSuffix("}"), isMetricName(series[..<brace]) else { throw LineError(line) }
        var labels: [String: String] = [:]
        for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)].split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, isMetricName(parts[0]), parts[1].count >= 2,
                  parts[1].hasPrefix("\""), parts[1].hasSuffix("\"") else { throw LineError(line) }
            labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
        }
        return Sample(name: String(series[..<brace]), labels: labels, value: value)
    }

    private static func isMetricName(_ text: Substring) -> Bool {
        guard let first = text.first, first.isLetter || first == "_" else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }
    }

    /// The value of the one sample named `name` whose labels include `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matches = samples.filter { sample in
            sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value }
        }
        return matches.count == 1 ? matches[0].value : nil
    }

    func all(_ name: String) -> [Sample] { samples.filter { $0.name == name } }

    struct LineError: Error, CustomStringConvertible {
        let description: String
        init(_ line: String) { description = "not Prometheus text: \(line)" }
    }
}
