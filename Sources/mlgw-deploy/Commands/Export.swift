import ArgumentParser
import Export
import Foundation
import Spec

/// `export STACK --format cloudformation`: the stack as one template for AWS.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Render the stack as a CloudFormation template (docs/export.md is the mapping, kind by kind).",
        discussion: """
        Local files (model artifacts, function code, baselines, capture and offline-store folders) become parameters for \
        their S3 locations. What has no cloud twin is an error naming the resource and the reason (nothing is written), or a \
        warning on stderr and in the template's Metadata. --package DIR zips each function's code into DIR/FUNCTION.zip and \
        makes functions/FUNCTION.zip its code key's default.
        """)

    @OptionGroup var options: StackOptions

    @Option(help: "The template format: cloudformation.")
    var format: String = "cloudformation"

    @Option(help: "Write the template to this file (default: standard output).")
    var out: String?

    @Option(help: "Zip each function's code into this folder, as FUNCTION.zip.")
    var package: String?

    func run() async throws {
        guard format == "cloudformation" else {
            throw ValidationError("unknown format '\(format)': use --format cloudformation")
        }
        let loaded = try StackLoading.load(options)
        var keys: [String: String] = [:]
        if let package {
            try FileManager.default.createDirectory(atPath: package, withIntermediateDirectories: true)
            for r in loaded.stack.resources {
                guard let f = r.value(as: Function.self), f.handler != nil else { continue }
                let zip = StoredZip.archive(StoredZip.files(under: f.codeDirectory))
                let path = "\(package)/\(f.name).zip"
                guard FileManager.default.createFile(atPath: path, contents: Data(zip)) else {
                    Console.err("error: cannot write \(path)")
                    throw ExitCode(1)
                }
                keys[f.name] = "functions/\(f.name).zip"
                Console.err("packaged functions.\(f.name): \(path) (\(zip.count) bytes); upload it as functions/\(f.name).zip")
            }
        }
        let result = CloudFormationExport.export(loaded.stack, packagedKeys: keys)
        for w in result.warnings { Console.err("warning: \(w)") }
        guard result.errors.isEmpty else {
            for e in result.errors { Console.err("error: \(e)") }
            Console.err("\(result.errors.count) resource\(result.errors.count == 1 ? " has" : "s have") no cloud twin; no template was written.")
            throw ExitCode(1)
        }
        if let out {
            guard FileManager.default.createFile(atPath: out, contents: Data(result.template.utf8)) else {
                Console.err("error: cannot write \(out)")
                throw ExitCode(1)
            }
            Console.err("wrote \(out): \(result.resourceCount) CloudFormation resources, \(result.warnings.count) warning\(result.warnings.count == 1 ? "" : "s")")
        } else {
            FileHandle.standardOutput.write(Data(result.template.utf8))
        }
    }
}
