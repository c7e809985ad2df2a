import EnvironmentAPI
import Foundation
import Spec

/// A plan written by `plan --out FILE`, with what it was made from. `apply FILE` executes exactly
/// `plan`, and only if every fingerprint still matches: content hashes, not serial numbers,
/// because a serial says nothing about edited stack files or a process that died since.
public struct SavedPlan: Sendable, Equatable, Codable {
    public static let formatVersion = 2

    public struct Fingerprints: Sendable, Equatable, Codable {
        /// SHA-256 over the stack files' paths and contents.
        public var stack: String
        /// Variable values (sensitive ones as hashes only).
        public var variables: String
        /// SHA-256 of the state file's bytes.
        public var state: String
        /// What the provider observed.
        public var observation: String

        public init(stack: String, variables: String, state: String, observation: String) {
            self.stack = stack
            self.variables = variables
            self.state = state
            self.observation = observation
        }

        /// Names of the inputs that differ from `other`, for the refusal message.
        public func differences(from other: Fingerprints) -> [String] {
            var d: [String] = []
            if stack != other.stack { d.append("the stack files changed") }
            if variables != other.variables { d.append("variable values changed") }
            if state != other.state { d.append("the state changed (another apply ran)") }
            if observation != other.observation { d.append("what runs changed (a resource started, stopped or changed outside this plan)") }
            return d
        }
    }

    public var format_version: Int
    /// The stack files, as given to `plan` (absolute paths).
    public var stackPaths: [String]
    /// `--var` assignments that are not sensitive; sensitive ones must be given again.
    public var variableAssignments: [String: String]
    public var variableFiles: [String]
    public var stateDirectory: String
    public var fingerprints: Fingerprints
    public var plan: Plan
    /// What ran when the plan was made (attributes only, as plans show them), so a refusal can
    /// say what changed since; absent in files written before it was kept.
    public var observed: Observation?

    /// The plan is kept without the stack's resource definitions (`Change.after`): they may hold
    /// a value from a sensitive variable (a JWKS URL with a token), and a plan file is plan
    /// output. `apply FILE` loads the stack again (its fingerprint must match) and takes each
    /// definition from there (`restoringDefinitions`).
    public init(stackPaths: [String], variableAssignments: [String: String], variableFiles: [String],
                stateDirectory: String, fingerprints: Fingerprints, plan: Plan, observed: Observation? = nil) {
        self.format_version = Self.formatVersion
        self.stackPaths = stackPaths
        self.variableAssignments = variableAssignments
        self.variableFiles = variableFiles
        self.stateDirectory = stateDirectory
        self.fingerprints = fingerprints
        self.observed = observed
        var stripped = plan
        for i in stripped.changes.indices { stripped.changes[i].after = nil }
        self.plan = stripped
    }

    /// Why the plan cannot be applied now, one reason each; empty when it can. What runs is
    /// named resource by resource when the file kept what ran.
    public func staleness(now: Fingerprints, observed current: Observation) -> [String] {
        var reasons = fingerprints.differences(from: now)
        if fingerprints.observation != now.observation, let observed {
            let what = current.differences(since: observed)
            if !what.isEmpty, let i = reasons.firstIndex(where: { $0.hasPrefix("what runs changed") }) {
                reasons[i] = "what runs changed since the plan: " + what.joined(separator: "; ")
            }
        }
        return reasons
    }

    /// The plan with each change's definition taken from `stack`, the same stack the plan was
    /// made from (the caller has checked the fingerprints); nil when the stack lacks one it needs.
    public func restoringDefinitions(from stack: Stack) -> Plan? {
        var plan = self.plan
        for i in plan.changes.indices where plan.changes[i].action != .delete {
            guard let spec = stack.resource(plan.changes[i].address) else { return nil }
            plan.changes[i].after = spec
        }
        return plan
    }

    public static func stackFingerprint(_ stack: Stack) -> String {
        SHA256.hex(of: stack.files.map { "\($0.path)\u{0}\($0.sha256)" }.joined(separator: "\n"))
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }

    public static func decode(_ data: Data) -> SavedPlan? {
        guard let plan = try? JSONDecoder().decode(SavedPlan.self, from: data), plan.format_version == formatVersion else { return nil }
        return plan
    }
}
