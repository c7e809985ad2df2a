// mlgw-bench: times a built-in runtime's predictor on a batch, without HTTP, for
// Benchmarks/xgboost_vs_python.py. Usage: mlgw-bench RUNTIME ARTIFACT ROWS.csv REPEATS
// Prints the median seconds per batch as JSON.
import Foundation
import Services

let args = CommandLine.arguments
guard args.count == 5, let repeats = Int(args[4]) else {
    FileHandle.standardError.write(Data("usage: mlgw-bench RUNTIME ARTIFACT ROWS.csv REPEATS\n".utf8))
    exit(2)
}
let model = try Runtimes.load(runtime: args[1], path: args[2])
let csv = try Data(contentsOf: URL(fileURLWithPath: args[3]))
let rows = try csv.withUnsafeBytes { try InferenceCodec.parseCSV($0, width: model.featureCount, allowMissing: model.acceptsMissingValues) }
var times: [Double] = []
var checksum = 0.0
for _ in 0..<repeats {
    let start = DispatchTime.now().uptimeNanoseconds
    let out = model.predict(rows)
    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    checksum += out[0]
}
times.sort()
print("{\"median_seconds\": \(times[times.count / 2]), \"rows\": \(rows.count / model.featureCount), \"checksum\": \(checksum)}")
