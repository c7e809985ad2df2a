/// What the host runs for one scaling policy: a scalable target (a variant's instance count or a
/// function's provisioned concurrency) with its bounds, and any number of target tracking
/// policies, step scaling policies with their alarms, and scheduled actions, as Application Auto
/// Scaling has them. Names and enums are AWS's (`SageMakerVariantInvocationsPerInstance`,
/// `ChangeInCapacity`, `GreaterThanOrEqualToThreshold`), so a stack reads like the API it mirrors.
public struct ScalingPolicyConfiguration: ControlConfiguration {
    public typealias Status = ScalingPolicyStatus
    public static let collection = ControlCollection.scalingPolicies

    public var name: String
    public var target: ScalableTarget
    public var minCapacity: Int
    public var maxCapacity: Int
    public var targetTracking: [TargetTrackingPolicy]
    public var stepScaling: [StepScalingPolicy]
    public var scheduledActions: [ScheduledAction]

    public init(name: String, target: ScalableTarget, minCapacity: Int, maxCapacity: Int, targetTracking: [TargetTrackingPolicy] = [],
                stepScaling: [StepScalingPolicy] = [], scheduledActions: [ScheduledAction] = []) {
        self.name = name
        self.target = target
        self.minCapacity = minCapacity
        self.maxCapacity = maxCapacity
        self.targetTracking = targetTracking
        self.stepScaling = stepScaling
        self.scheduledActions = scheduledActions
    }
}

/// What a policy scales: one variant of an endpoint, or one function.
public struct ScalableTarget: Sendable, Codable, Equatable, Hashable {
    public var endpoint: String?
    public var variant: String?
    public var function: String?

    public static func variant(_ endpoint: String, _ variant: String) -> ScalableTarget {
        ScalableTarget(endpoint: endpoint, variant: variant, function: nil)
    }

    public static func function(_ name: String) -> ScalableTarget { ScalableTarget(endpoint: nil, variant: nil, function: name) }

    public init(endpoint: String?, variant: String?, function: String?) {
        self.endpoint = endpoint
        self.variant = variant
        self.function = function
    }

    public var isFunction: Bool { function != nil }

    /// Application Auto Scaling's ResourceId: `endpoint/E/variant/V`, or `function:F:$LATEST`
    /// (provisioned concurrency lives on a version or alias; the local provider runs `$LATEST`).
    public var resourceID: String {
        if let function { return "function:\(function):$LATEST" }
        return "endpoint/\(endpoint ?? "")/variant/\(variant ?? "")"
    }

    /// Its ScalableDimension.
    public var dimension: String {
        isFunction ? "lambda:function:ProvisionedConcurrency" : "sagemaker:variant:DesiredInstanceCount"
    }

    /// What a capacity counts, for activity descriptions: "instance count", "provisioned concurrency".
    public var capacityNoun: String { isFunction ? "provisioned concurrency" : "instance count" }
}

/// The metrics a policy can follow, as CloudWatch names them for SageMaker variants (namespace
/// AWS/SageMaker) and Lambda functions (AWS/Lambda).
public enum ScalingMetric: String, Sendable, Codable, CaseIterable {
    case invocations = "Invocations"
    case invocationsPerInstance = "InvocationsPerInstance"
    case invocation4XXErrors = "Invocation4XXErrors"
    case invocation5XXErrors = "Invocation5XXErrors"
    /// Microseconds, as SageMaker reports it.
    case modelLatency = "ModelLatency"
    /// Percent of one core per instance, averaged over the variant's instances.
    case cpuUtilization = "CPUUtilization"
    /// Busy provisioned workers over provisioned concurrency, 0 to 1.
    case provisionedConcurrencyUtilization = "ProvisionedConcurrencyUtilization"
    case concurrentExecutions = "ConcurrentExecutions"

    public var forFunctions: Bool {
        switch self {
        case .provisionedConcurrencyUtilization, .concurrentExecutions: return true
        case .invocations: return true
        default: return false
        }
    }

    public var forVariants: Bool { self != .provisionedConcurrencyUtilization && self != .concurrentExecutions }

    /// The statistics a datapoint of this metric has (a count has no meaningful maximum here).
    public var statistics: [AlarmStatistic] {
        switch self {
        case .invocations, .invocation4XXErrors, .invocation5XXErrors: return [.sum, .sampleCount]
        case .invocationsPerInstance: return [.sum]
        case .modelLatency: return [.average, .sum, .sampleCount]
        case .cpuUtilization, .provisionedConcurrencyUtilization, .concurrentExecutions: return [.average, .maximum, .minimum]
        }
    }
}

public enum AlarmStatistic: String, Sendable, Codable, CaseIterable {
    case sum = "Sum", average = "Average", maximum = "Maximum", minimum = "Minimum", sampleCount = "SampleCount"
}

public enum AlarmComparison: String, Sendable, Codable, CaseIterable {
    case greaterThanOrEqual = "GreaterThanOrEqualToThreshold"
    case greaterThan = "GreaterThanThreshold"
    case lessThan = "LessThanThreshold"
    case lessThanOrEqual = "LessThanOrEqualToThreshold"

    public func breaches(_ value: Double, _ threshold: Double) -> Bool {
        switch self {
        case .greaterThanOrEqual: return value >= threshold
        case .greaterThan: return value > threshold
        case .lessThan: return value < threshold
        case .lessThanOrEqual: return value <= threshold
        }
    }

    public var symbol: String {
        switch self {
        case .greaterThanOrEqual: return ">="
        case .greaterThan: return ">"
        case .lessThan: return "<"
        case .lessThanOrEqual: return "<="
        }
    }
}

/// CloudWatch's treatments of a missing datapoint, plus a fill value (metric math's
/// `FILL(m, value)`): a period without data counts as that value.
public struct MissingDataTreatment: Sendable, Codable, Equatable {
    public enum Treatment: String, Sendable, Codable, CaseIterable {
        case missing, ignore, breaching, notBreaching
    }

    public var treatment: Treatment
    public var fill: Double?

    public init(_ treatment: Treatment, fill: Double? = nil) {
        self.treatment = treatment
        self.fill = fill
    }

    public static let missing = MissingDataTreatment(.missing)
    public static func filled(_ value: Double) -> MissingDataTreatment { MissingDataTreatment(.missing, fill: value) }

    public var text: String { fill.map { "fill \(formatCapacityNumber($0))" } ?? treatment.rawValue }
}

/// A CloudWatch alarm on one of the target's metrics.
public struct AlarmConfiguration: Sendable, Codable, Equatable {
    public var name: String
    public var metric: ScalingMetric
    public var statistic: AlarmStatistic
    /// Seconds: 10, 30, or a multiple of 60.
    public var period: Int
    public var evaluationPeriods: Int
    public var datapointsToAlarm: Int
    public var threshold: Double
    public var comparison: AlarmComparison
    public var missingData: MissingDataTreatment

    public init(name: String, metric: ScalingMetric, statistic: AlarmStatistic, period: Int, evaluationPeriods: Int, datapointsToAlarm: Int,
                threshold: Double, comparison: AlarmComparison, missingData: MissingDataTreatment) {
        self.name = name
        self.metric = metric
        self.statistic = statistic
        self.period = period
        self.evaluationPeriods = evaluationPeriods
        self.datapointsToAlarm = datapointsToAlarm
        self.threshold = threshold
        self.comparison = comparison
        self.missingData = missingData
    }
}

public enum AdjustmentType: String, Sendable, Codable, CaseIterable {
    case changeInCapacity = "ChangeInCapacity"
    case percentChangeInCapacity = "PercentChangeInCapacity"
    case exactCapacity = "ExactCapacity"
}

/// One step: bounds relative to the alarm's threshold (nil: unbounded), and the adjustment.
public struct StepAdjustment: Sendable, Codable, Equatable {
    public var lower: Double?
    public var upper: Double?
    public var adjustment: Int

    public init(lower: Double?, upper: Double?, adjustment: Int) {
        self.lower = lower
        self.upper = upper
        self.adjustment = adjustment
    }
}

public struct StepScalingPolicy: Sendable, Codable, Equatable {
    public var name: String
    public var alarm: AlarmConfiguration
    public var adjustmentType: AdjustmentType
    public var steps: [StepAdjustment]
    public var minAdjustmentMagnitude: Int?
    /// Seconds.
    public var cooldown: Double

    public init(name: String, alarm: AlarmConfiguration, adjustmentType: AdjustmentType, steps: [StepAdjustment], minAdjustmentMagnitude: Int?, cooldown: Double) {
        self.name = name
        self.alarm = alarm
        self.adjustmentType = adjustmentType
        self.steps = steps
        self.minAdjustmentMagnitude = minAdjustmentMagnitude
        self.cooldown = cooldown
    }
}

/// Target tracking's predefined metrics.
public enum TrackedMetric: String, Sendable, Codable, CaseIterable {
    case invocationsPerInstance = "SageMakerVariantInvocationsPerInstance"
    case cpuUtilization = "SageMakerVariantCPUUtilization"
    case modelLatency = "SageMakerVariantModelLatency"
    case provisionedConcurrencyUtilization = "LambdaProvisionedConcurrencyUtilization"

    /// The metric and statistic of its one-minute datapoints.
    public var metric: (ScalingMetric, AlarmStatistic) {
        switch self {
        case .invocationsPerInstance: return (.invocationsPerInstance, .sum)
        case .cpuUtilization: return (.cpuUtilization, .average)
        case .modelLatency: return (.modelLatency, .average)
        case .provisionedConcurrencyUtilization: return (.provisionedConcurrencyUtilization, .maximum)
        }
    }

    public var forFunctions: Bool { self == .provisionedConcurrencyUtilization }
}

public struct TargetTrackingPolicy: Sendable, Codable, Equatable {
    public var name: String
    public var metric: TrackedMetric
    public var targetValue: Double
    /// Seconds; 300 for both, as Application Auto Scaling's default for SageMaker variants.
    public var scaleInCooldown: Double
    public var scaleOutCooldown: Double
    public var disableScaleIn: Bool

    public init(name: String, metric: TrackedMetric, targetValue: Double, scaleInCooldown: Double, scaleOutCooldown: Double, disableScaleIn: Bool) {
        self.name = name
        self.metric = metric
        self.targetValue = targetValue
        self.scaleInCooldown = scaleInCooldown
        self.scaleOutCooldown = scaleOutCooldown
        self.disableScaleIn = disableScaleIn
    }
}

/// A scheduled action: at its schedule's firings (EventBridge's `at`, `rate`, `cron` with a time
/// zone) the target's bounds become these.
public struct ScheduledAction: Sendable, Codable, Equatable {
    public var name: String
    public var schedule: String
    public var timeZone: String?
    public var minCapacity: Int?
    public var maxCapacity: Int?

    public init(name: String, schedule: String, timeZone: String?, minCapacity: Int?, maxCapacity: Int?) {
        self.name = name
        self.schedule = schedule
        self.timeZone = timeZone
        self.minCapacity = minCapacity
        self.maxCapacity = maxCapacity
    }
}

/// One scaling activity, in Application Auto Scaling's words.
public struct ScalingActivity: Sendable, Codable, Equatable {
    public var activityId: String
    public var policy: String
    public var resourceId: String
    /// "Setting desired instance count to 3."
    public var description: String
    /// "monitor alarm ... in state ALARM triggered policy ... changing the desired capacity from 1 to 3."
    public var cause: String
    /// Unix seconds on the environment's clock.
    public var startTime: Double
    public var endTime: Double?
    /// `InProgress`, `Successful`, `Failed`.
    public var statusCode: String
    public var statusMessage: String?
    public var fromCapacity: Int
    public var toCapacity: Int

    public init(activityId: String, policy: String, resourceId: String, description: String, cause: String, startTime: Double, endTime: Double?,
                statusCode: String, statusMessage: String?, fromCapacity: Int, toCapacity: Int) {
        self.activityId = activityId
        self.policy = policy
        self.resourceId = resourceId
        self.description = description
        self.cause = cause
        self.startTime = startTime
        self.endTime = endTime
        self.statusCode = statusCode
        self.statusMessage = statusMessage
        self.fromCapacity = fromCapacity
        self.toCapacity = toCapacity
    }
}

public struct AlarmStatus: Sendable, Codable, Equatable {
    public var name: String
    /// `OK`, `ALARM`, `INSUFFICIENT_DATA`.
    public var state: String
    public var reason: String
    /// The latest datapoint (nil: missing).
    public var lastValue: Double?

    public init(name: String, state: String, reason: String, lastValue: Double?) {
        self.name = name
        self.state = state
        self.reason = reason
        self.lastValue = lastValue
    }
}

public struct ScalingPolicyStatus: Sendable, Codable, Equatable {
    public var configuration: ScalingPolicyConfiguration
    public var resourceId: String
    /// What the policy wants now, and the bounds in force (a scheduled action may have moved them).
    public var desiredCapacity: Int
    public var minCapacity: Int
    public var maxCapacity: Int
    /// What serves now: healthy instances, or warm provisioned workers.
    public var runningCapacity: Int
    public var alarms: [AlarmStatus]
    /// The most recent first, at most 20.
    public var activities: [ScalingActivity]
    public var nextScheduledAction: Double?

    public init(configuration: ScalingPolicyConfiguration, resourceId: String, desiredCapacity: Int, minCapacity: Int, maxCapacity: Int,
                runningCapacity: Int, alarms: [AlarmStatus], activities: [ScalingActivity], nextScheduledAction: Double?) {
        self.configuration = configuration
        self.resourceId = resourceId
        self.desiredCapacity = desiredCapacity
        self.minCapacity = minCapacity
        self.maxCapacity = maxCapacity
        self.runningCapacity = runningCapacity
        self.alarms = alarms
        self.activities = activities
        self.nextScheduledAction = nextScheduledAction
    }
}

/// `GET /_control/scaling-policies/NAME/activities`: every recorded activity, oldest first.
public struct ScalingActivitiesRequest: Sendable, Codable, Equatable {
    public init() {}
}

public struct ScalingActivities: Sendable, Codable, Equatable {
    public var activities: [ScalingActivity]

    public init(activities: [ScalingActivity]) { self.activities = activities }
}

/// A number as a person writes it: 3, 0.5.
public func formatCapacityNumber(_ v: Double) -> String {
    v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
}
