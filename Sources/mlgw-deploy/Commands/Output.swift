import ArgumentParser
import Foundation
import Reconciler
import Spec

struct Output: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the stack's outputs after apply (all, or one by name).")

    @OptionGroup var options: StackOptions

    @Argument(help: "One output's name; prints its bare value.")
    var name: String?

    @Flag(name: .long, help: "Print as JSON (one output: its value as a JSON string, null when sensitive).")
    var json = false

    func run() async throws {
        var options = self.options, name = self.name
        options.shiftingPositional(into: &name)
        let deployed = try StackLoading.deployed(options)
        let state = try await StackLoading.readState(deployed.store, name: deployed.name)
        var outputs = state?.outputs ?? [:]
        // The environment's own attributes are outputs too.
        for key in ["aws_endpoint_url", "metrics_url", "gateway_url"] {
            if let url = state?.environmentAttributes[key] {
                outputs[key] = outputs[key] ?? OutputValue(value: url, sensitive: false)
            }
        }
        if let name {
            guard let value = outputs[name] else {
                Console.err("error: no output '\(name)'\(state == nil ? " (the environment was never applied)" : "")\n  hint: outputs are: \(outputs.keys.sorted().joined(separator: ", "))")
                throw ExitCode(1)
            }
            // JSON: the value, or null when it is sensitive or not known yet.
            Console.out(json ? (value.sensitive || value.knownAfterApply ? "null" : AttributeValue.quoted(value.value ?? "")) : OutputView.display(value))
            return
        }
        if json {
            var object: [String: Any] = [:]
            for (k, v) in outputs { object[k] = ["value": v.sensitive || v.knownAfterApply ? NSNull() : (v.value ?? "") as Any, "sensitive": v.sensitive] }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            Console.out(String(decoding: data, as: UTF8.self))
        } else {
            for k in outputs.keys.sorted() { Console.out("\(k) = \(OutputView.display(outputs[k]!))") }
        }
    }
}
