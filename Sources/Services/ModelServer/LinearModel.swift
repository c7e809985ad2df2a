import Foundation

/// The built-in `linear` runtime: linear regression (`objective: regression`) or binary logistic
/// regression (`objective: logistic`, answering the probability of the positive class).
///
/// Artifact (JSON): `{"objective": "logistic", "coefficients": [0.4, -1.2], "intercept": 0.1,
/// "feature_names": ["a", "b"]}`; `feature_names` is optional documentation.
public struct LinearModel: Predictor, Equatable {
    public enum Objective: String, Sendable, Codable { case regression, logistic }

    public var objective: Objective
    public var coefficients: [Double]
    public var intercept: Double

    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    struct Artifact: Decodable {
        var objective: Objective?
        var coefficients: [Double]
        var intercept: Double?
    }

    public static func load(path: String) throws -> LinearModel {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(description: "cannot read model artifact '\(path)'")
        }
        return try load(data: data, path: path)
    }

    public static func load(data: Data, path: String) throws -> LinearModel {
        let a: Artifact
        do {
            a = try JSONDecoder().decode(Artifact.self, from: data)
        } catch {
            throw LoadError(description: "model artifact '\(path)' is not a linear model: expected JSON with 'coefficients' (numbers), 'intercept' and 'objective' (regression|logistic)")
        }
        guard !a.coefficients.isEmpty else { throw LoadError(description: "model artifact '\(path)' has no coefficients") }
        return LinearModel(objective: a.objective ?? .regression, coefficients: a.coefficients, intercept: a.intercept ?? 0)
    }

    @inline(__always)
    public func predict(_ row: UnsafeBufferPointer<Double>) -> Double {
        var z = intercept
        for i in 0..<coefficients.count { z += coefficients[i] * row[i] }
        return objective == .logistic ? 1 / (1 + Foundation.exp(-z)) : z
    }

    public var featureCount: Int { coefficients.count }
    public var outputsPerRow: Int { 1 }
    public var acceptsMissingValues: Bool { false }
    public var summary: String { "linear \(objective.rawValue)" }

    public func predict(_ rows: [Double]) -> [Double] {
        let width = coefficients.count
        var out: [Double] = []
        out.reserveCapacity(rows.count / width)
        rows.withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                out.append(predict(UnsafeBufferPointer(rebasing: all[start..<(start + width)])))
                start += width
            }
        }
        return out
    }
}

/// Input parsing and output formatting for the built-in runtimes: CSV rows (`text/csv`) or JSON
/// (`{"instances": [[...], ...]}`, `[[...], ...]` or one flat row), one prediction per row.
public enum InferenceCodec {
    public struct BadInput: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses CSV rows of numbers into a flat row-major buffer; every row must have `width` values.
    public static func parseCSV(_ bytes: UnsafeRawBufferPointer, width: Int, allowMissing: Bool = false) throws -> [Double] {
        var values: [Double] = []
        values.reserveCapacity(width * 4)
        var rowCount = 0
        var fieldStart = 0
        var inRow = 0
        var scratch = [CChar](repeating: 0, count: 64)
        func field(_ start: Int, _ end: Int) throws {
            var s = start, e = end
            while s < e, bytes[s] == 32 || bytes[s] == 9 { s += 1 }
            while e > s, bytes[e - 1] == 32 || bytes[e - 1] == 9 || bytes[e - 1] == 13 { e -= 1 }
            if e == s, allowMissing {
                values.append(.nan)
                inRow += 1
                return
            }
            guard e > s, e - s < 63 else {
                throw BadInput(description: "row \(rowCount + 1) has an empty or overlong value")
            }
            for i in s..<e { scratch[i - s] = CChar(bitPattern: bytes[i]) }
            scratch[e - s] = 0
            var endPointer: UnsafeMutablePointer<CChar>?
            let v = scratch.withUnsafeMutableBufferPointer { p -> Double in
                let r = strtod(p.baseAddress!, &endPointer)
                return endPointer == p.baseAddress! + (e - s) ? r : .nan
            }
            guard !v.isNaN else {
                throw BadInput(description: "row \(rowCount + 1) holds a value that is not a number: '\(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[s..<e]), as: UTF8.self))'")
            }
            values.append(v)
            inRow += 1
        }
        func endRow(_ lineEnd: Int) throws {
            if inRow == 0 && lineEnd == fieldStart { return }   // blank line
            try field(fieldStart, lineEnd)
            guard inRow == width else {
                throw BadInput(description: "row \(rowCount + 1) has \(inRow) values; the model expects \(width)")
            }
            rowCount += 1
            inRow = 0
        }
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 44 {  // ','
                try field(fieldStart, i)
                fieldStart = i + 1
            } else if b == 10 {  // '\n'
                try endRow(i)
                fieldStart = i + 1
            }
            i += 1
        }
        if fieldStart < bytes.count { try endRow(bytes.count) }
        guard rowCount > 0 else { throw BadInput(description: "the request holds no rows") }
        return values
    }

    public static func parseJSON(_ data: Data, width: Int, allowMissing: Bool = false) throws -> [Double] {
        guard let object = try? JSONSerialization.jsonObject(with: data) else {
            throw BadInput(description: "the body is not valid JSON")
        }
        var rows: Any = object
        if let dict = object as? [String: Any] {
            guard let instances = dict["instances"] ?? dict["inputs"] else {
                throw BadInput(description: "a JSON body needs 'instances': [[...], ...]")
            }
            rows = instances
        }
        guard let list = rows as? [Any], !list.isEmpty else { throw BadInput(description: "'instances' must be a non-empty list of rows") }
        let matrix: [[Any]] = list.first is [Any] ? list.compactMap { $0 as? [Any] } : [list]
        var values: [Double] = []
        values.reserveCapacity(matrix.count * width)
        for (r, row) in matrix.enumerated() {
            guard row.count == width else {
                throw BadInput(description: "row \(r + 1) has \(row.count) values; the model expects \(width)")
            }
            for v in row {
                if allowMissing, v is NSNull {
                    values.append(.nan)
                    continue
                }
                guard let n = (v as? NSNumber)?.doubleValue else { throw BadInput(description: "row \(r + 1) holds a value that is not a number") }
                values.append(n)
            }
        }
        return values
    }

    /// One line per row; several outputs per row (class probabilities) are comma-separated.
    public static func formatCSV(_ predictions: [Double], perRow: Int = 1) -> String {
        rows(predictions, perRow).map { $0.map(number).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    /// `{"predictions": [...]}`, with a list per row when there are several outputs per row.
    public static func formatJSON(_ predictions: [Double], perRow: Int = 1) -> String {
        // Numbers only, formatted here: the model server's answer is on every request's path.
        if perRow == 1 { return "{\"predictions\":[" + predictions.map(number).joined(separator: ",") + "]}" }
        return "{\"predictions\":[" + rows(predictions, perRow).map { "[" + $0.map(number).joined(separator: ",") + "]" }.joined(separator: ",") + "]}"
    }

    static func rows(_ values: [Double], _ perRow: Int) -> [ArraySlice<Double>] {
        stride(from: 0, to: values.count, by: perRow).map { values[$0..<min($0 + perRow, values.count)] }
    }

    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}
