import EnvironmentAPI
import Foundation

extension EnvironmentController {
    /// Converges a function: a new configuration starts a new pool (its provisioned workers warm
    /// before this returns), then swaps it in; the old pool finishes what it runs and stops.
    func putFunction(_ config: FunctionConfiguration) async throws -> FunctionStatus {
        if functionConfigs[config.name] == config, let status = functions.status(config.name) { return status }
        let program: String, arguments: [String]
        var environment = ProcessInfo.processInfo.environment.filter { ["PATH", "HOME", "LANG", "TMPDIR"].contains($0.key) }
        if let handler = config.handler {
            let bootstrap: String
            do { bootstrap = try PythonBootstrap.install(in: directory) } catch {
                throw ControlError(message: "cannot write the Python runtime into \(directory)/data/runtime: \(error)", terminal: true)
            }
            guard let python = Self.executable("python3", in: config.workingDirectory) else {
                throw ControlError(message: "function '\(config.name)' needs python3, which is not on PATH", terminal: true)
            }
            (program, arguments) = (python, [bootstrap])
            environment["_HANDLER"] = handler
            environment["PYTHONUNBUFFERED"] = "1"
            environment["PYTHONDONTWRITEBYTECODE"] = "1"
        } else {
            guard let first = config.command.first, let path = Self.executable(first, in: config.workingDirectory) else {
                throw ControlError(message: "the command of function '\(config.name)' names '\(config.command.first ?? "")', which is not an executable file here or on PATH", terminal: true)
            }
            (program, arguments) = (path, Array(config.command.dropFirst()))
            environment["PYTHONUNBUFFERED"] = "1"
        }
        // What a Lambda worker finds in its environment.
        let lambda: [String: String] = [
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": String(config.memoryMB),
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/\(config.name)",
            "AWS_LAMBDA_INITIALIZATION_TYPE": config.provisionedConcurrency > 0 ? "provisioned-concurrency" : "on-demand",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3",
            "AWS_REGION": FunctionHost.region,
            "AWS_DEFAULT_REGION": FunctionHost.region,
            "AWS_ACCESS_KEY_ID": "mlgwlocal",
            "AWS_SECRET_ACCESS_KEY": "mlgwlocal",
            "AWS_SESSION_TOKEN": "mlgwlocal",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:\(awsPort)",
            "LAMBDA_TASK_ROOT": config.workingDirectory,
            "LAMBDA_RUNTIME_DIR": directory + "/data/runtime",
            "TZ": ":UTC",
        ]
        environment.merge(lambda) { $1 }
        environment.merge(config.environment) { $1 }
        let host = functions
        let pool = FunctionPool(config: config, arn: FunctionHost.arn(config.name), directory: directory, group: group, spawner: spawner,
                                program: program, arguments: arguments, environment: environment,
                                register: { pid, pool in host.register(pid, pool) })
        if let failure = await pool.start() {
            _ = pool.retire()
            pool.killAll()
            throw ControlError(message: "function '\(config.name)' did not start: \(failure)", terminal: true)
        }
        let old = functions.set(pool, for: config.name)
        if let old { pool.adopt(old.retire()) }
        functionConfigs[config.name] = config
        log("function \(config.name): \(old == nil ? "started" : "replaced") (code \(config.codeSHA256.prefix(12)), \(config.provisionedConcurrency) provisioned, up to \(config.reservedConcurrency))")
        return functions.status(config.name)!
    }

    func deleteFunction(_ name: String) {
        functionConfigs[name] = nil
        if let old = functions.set(nil, for: name) {
            for inv in old.retire() { inv.complete(.unavailable("function \(name) was deleted")) }
        }
        log("function \(name): deleted")
    }
}
