/// What the host runs for one monitor: a schedule on the environment's clock, the endpoint (and
/// variant) whose data capture each run reads, the baseline it compares the window with, and the
/// per-feature methods and thresholds. Methods travel as their stack names (`ks`,
/// `wasserstein`, ...); the host checks every value again.
public struct MonitorConfiguration: ControlConfiguration {
    public typealias Status = MonitorStatus
    public static let collection = ControlCollection.monitors

    public struct Feature: Sendable, Codable, Equatable {
        public var name: String
        /// `Integral`, `Fractional` or `String`; nil: inferred from the baseline.
        public var type: String?
        public var method: String?
        public var threshold: Double?

        public init(name: String, type: String? = nil, method: String? = nil, threshold: Double? = nil) {
            self.name = name
            self.type = type
            self.method = method
            self.threshold = threshold
        }
    }

    public var name: String
    public var endpoint: String
    public var variant: String?
    /// `data_quality`.
    public var checkType: String
    public var schedule: String
    /// Seconds back from the run's time; nil: since the previous run (or the monitor's creation).
    public var window: Double?
    /// Absolute paths: a training CSV, or a statistics file with a constraints file.
    public var baselineCSV: String?
    public var baselineStatistics: String?
    public var baselineConstraints: String?
    /// SHA-256 of the baseline's files, so a changed file is a changed configuration.
    public var baselineDigest: String
    public var features: [Feature]
    public var method: String?
    public var threshold: Double?
    public var minimumSamples: Int
    public var enabled: Bool
    /// Model quality: `binary_classification`, `multiclass_classification` or `regression`.
    public var problemType: String?
    /// Model quality: the folder of ground-truth JSON lines (absolute).
    public var groundTruth: String?
    /// Model quality: the baseline CSV's label and answer columns.
    public var label: String?
    public var prediction: String?
    /// Binary classification: scores at or above it are the positive class (default 0.5).
    public var probabilityThreshold: Double?

    public init(name: String, endpoint: String, variant: String?, checkType: String, schedule: String, window: Double?, baselineCSV: String?,
                baselineStatistics: String?, baselineConstraints: String?, baselineDigest: String, features: [Feature], method: String?,
                threshold: Double?, minimumSamples: Int, enabled: Bool, problemType: String? = nil, groundTruth: String? = nil,
                label: String? = nil, prediction: String? = nil, probabilityThreshold: Double? = nil) {
        self.name = name
        self.endpoint = endpoint
        self.variant = variant
        self.checkType = checkType
        self.schedule = schedule
        self.window = window
        self.baselineCSV = baselineCSV
        self.baselineStatistics = baselineStatistics
        self.baselineConstraints = baselineConstraints
        self.baselineDigest = baselineDigest
        self.features = features
        self.method = method
        self.threshold = threshold
        self.minimumSamples = minimumSamples
        self.enabled = enabled
        self.problemType = problemType
        self.groundTruth = groundTruth
        self.label = label
        self.prediction = prediction
        self.probabilityThreshold = probabilityThreshold
    }

    public static func arn(_ name: String) -> String {
        "arn:aws:sagemaker:\(AWSIdentity.region):\(AWSIdentity.account):monitoring-schedule/\(name)"
    }
}

/// One run's outcome, as `status`, the run's `run.json` and its event tell it.
public struct MonitorRunSummary: Sendable, Codable, Equatable {
    /// The run's folder name under `data/monitors/NAME/runs/` (its time, `20261203T074500`).
    public var id: String
    /// `Completed`, `CompletedWithViolations`, `Failed` or `Skipped` (too few samples).
    public var status: String
    /// Unix seconds on the environment's clock.
    public var time: Double
    public var windowStart: Double
    public var windowEnd: Double
    public var records: Int
    public var rows: Int
    public var violations: Int
    public var driftedFeatures: [String]
    public var message: String?
    /// The run's folder (absolute), with `report.html`.
    public var folder: String?
    /// Model quality: each metric's value in the window.
    public var metrics: [String: Double]?

    public init(id: String, status: String, time: Double, windowStart: Double, windowEnd: Double, records: Int, rows: Int, violations: Int,
                driftedFeatures: [String], message: String?, folder: String?) {
        self.id = id
        self.status = status
        self.time = time
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.records = records
        self.rows = rows
        self.violations = violations
        self.driftedFeatures = driftedFeatures
        self.message = message
        self.folder = folder
    }
}

public struct MonitorStatus: Sendable, Codable, Equatable {
    public var configuration: MonitorConfiguration
    public var arn: String
    /// Rows and features of the baseline in use.
    public var baselineRows: Int
    public var baselineFeatures: [String]
    public var runs: Int
    public var lastRun: MonitorRunSummary?
    public var nextRun: Double?

    public init(configuration: MonitorConfiguration, arn: String, baselineRows: Int, baselineFeatures: [String], runs: Int,
                lastRun: MonitorRunSummary?, nextRun: Double?) {
        self.configuration = configuration
        self.arn = arn
        self.baselineRows = baselineRows
        self.baselineFeatures = baselineFeatures
        self.runs = runs
        self.lastRun = lastRun
        self.nextRun = nextRun
    }
}

/// `POST /_control/monitors/NAME/run` and `.../baseline`: no fields.
public struct MonitorActionRequest: Sendable, Codable, Equatable {
    public init() {}
}
