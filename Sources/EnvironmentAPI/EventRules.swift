/// What the host runs for one event rule: a pattern matched against every event on the bus, or
/// a schedule fired on the environment's clock; its targets receive what matches. The pattern
/// and schedule travel as their text; the host parses them again (validate has already).
public struct EventRuleConfiguration: ControlConfiguration {
    public typealias Status = EventRuleStatus
    public static let collection = ControlCollection.eventRules

    public var name: String
    /// The event pattern's JSON text.
    public var pattern: String?
    public var schedule: String?
    /// An IANA zone for cron and at schedules (UTC without).
    public var timeZone: String?
    public var enabled: Bool
    public var description: String?
    public var targets: [EventTargetConfiguration]

    public init(name: String, pattern: String?, schedule: String?, timeZone: String?, enabled: Bool, description: String?,
                targets: [EventTargetConfiguration]) {
        self.name = name
        self.pattern = pattern
        self.schedule = schedule
        self.timeZone = timeZone
        self.enabled = enabled
        self.description = description
        self.targets = targets
    }

    public static func arn(_ name: String) -> String { "arn:aws:events:\(AWSIdentity.region):\(AWSIdentity.account):rule/\(name)" }
}

/// Where a rule sends what matches, and how hard it tries.
public struct EventTargetConfiguration: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, Equatable {
        /// An asynchronous invoke (Lambda's `Event` invocation type).
        case function
        /// InvokeEndpoint with the input as the body.
        case endpoint
        /// An HTTP POST to a loopback URL.
        case url
        /// A command, with the input on its standard input.
        case command
        /// A line in the environment's log.
        case log
    }

    public enum Input: String, Sendable, Codable, Equatable {
        case event, constant, path, transformer
    }

    /// `function:retrain`, `log`: unique within the rule (its delivery records name it).
    public var id: String
    public var kind: Kind
    /// The function's or endpoint's name, or the URL.
    public var target: String
    public var command: [String]
    public var workingDirectory: String?
    public var input: Input
    /// The constant JSON, or the path.
    public var inputText: String?
    public var inputPaths: [String: String]
    public var template: String?
    /// The endpoint call's content type.
    public var contentType: String
    /// Attempts in all (EventBridge counts retries: 185 of them by default, so 186 attempts).
    public var maxAttempts: Int
    /// Seconds after which an undelivered event goes to the dead-letter file.
    public var maxEventAge: Double
    /// An absolute path, or nil for the environment's `data/events/dead-letter/RULE.jsonl`.
    public var deadLetter: String?
    /// A command's or URL's time limit, seconds.
    public var timeout: Double

    public init(id: String, kind: Kind, target: String, command: [String] = [], workingDirectory: String? = nil, input: Input = .event,
                inputText: String? = nil, inputPaths: [String: String] = [:], template: String? = nil, contentType: String = "application/json",
                maxAttempts: Int = 186, maxEventAge: Double = 86_400, deadLetter: String? = nil, timeout: Double = 30) {
        self.id = id
        self.kind = kind
        self.target = target
        self.command = command
        self.workingDirectory = workingDirectory
        self.input = input
        self.inputText = inputText
        self.inputPaths = inputPaths
        self.template = template
        self.contentType = contentType
        self.maxAttempts = maxAttempts
        self.maxEventAge = maxEventAge
        self.deadLetter = deadLetter
        self.timeout = timeout
    }
}

/// A rule as the host runs it, with its counters.
public struct EventRuleStatus: Sendable, Codable, Equatable {
    public var configuration: EventRuleConfiguration
    public var arn: String
    /// Events (or firings) the rule matched.
    public var matched: UInt64
    /// Deliveries that succeeded, and that ended in the dead-letter file.
    public var delivered: UInt64
    public var failed: UInt64
    /// Deliveries waiting for their (next) attempt.
    public var pending: Int
    /// Unix seconds on the environment's clock.
    public var lastFired: Double?
    public var nextFiring: Double?
    public var lastError: String?

    public init(configuration: EventRuleConfiguration, arn: String, matched: UInt64 = 0, delivered: UInt64 = 0, failed: UInt64 = 0,
                pending: Int = 0, lastFired: Double? = nil, nextFiring: Double? = nil, lastError: String? = nil) {
        self.configuration = configuration
        self.arn = arn
        self.matched = matched
        self.delivered = delivered
        self.failed = failed
        self.pending = pending
        self.lastFired = lastFired
        self.nextFiring = nextFiring
        self.lastError = lastError
    }
}

/// The environment's clock: `clock advance` moves it forward (never back).
public struct ClockStatus: Sendable, Codable, Equatable {
    /// Unix seconds on the environment's clock, and how far that is ahead of the wall clock.
    public var now: Double
    public var ahead: Double
    /// Schedule firings the last advance went through.
    public var fired: Int

    public init(now: Double, ahead: Double, fired: Int = 0) {
        self.now = now
        self.ahead = ahead
        self.fired = fired
    }
}

/// `POST /_control/clock/advance`.
public struct ClockAdvance: Sendable, Codable, Equatable {
    public var seconds: Double
    public init(seconds: Double) { self.seconds = seconds }
}

/// `POST /_control/events/put`: events sent by `events put` (or anything on the host itself),
/// in PutEvents' entry shape.
public struct EventEntry: Sendable, Codable, Equatable {
    public var source: String
    public var detailType: String
    /// The detail's JSON text.
    public var detail: String
    public var resources: [String]

    public init(source: String, detailType: String, detail: String, resources: [String] = []) {
        self.source = source
        self.detailType = detailType
        self.detail = detail
        self.resources = resources
    }
}

/// The account and region every local ARN names.
public enum AWSIdentity {
    public static let account = "000000000000"
    public static let region = "us-east-1"
}

/// `http://127.0.0.1:PORT/PATH` or `http://localhost:PORT/PATH`: the only URLs a target may name
/// (the environment is one machine's).
public struct LoopbackURL: Sendable, Equatable {
    public var port: Int
    public var path: String

    public init?(_ text: String) {
        var rest: Substring
        if text.hasPrefix("http://127.0.0.1:") { rest = text.dropFirst("http://127.0.0.1:".count) } else if text.hasPrefix("http://localhost:") {
            rest = text.dropFirst("http://localhost:".count)
        } else { return nil }
        let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
        guard let port = Int(digits), (1...65_535).contains(port) else { return nil }
        rest = rest.dropFirst(digits.count)
        guard rest.isEmpty || rest.hasPrefix("/") else { return nil }
        self.port = port
        self.path = rest.isEmpty ? "/" : String(rest)
    }
}

/// `POST /_control/events/recent`: the bus's events after a sequence number (`events tail`).
public struct RecentEventsRequest: Sendable, Codable, Equatable {
    public var after: UInt64
    public init(after: UInt64) { self.after = after }
}

public struct RecentEvents: Sendable, Codable, Equatable {
    public struct Item: Sendable, Codable, Equatable {
        public var seq: UInt64
        /// The envelope's JSON text.
        public var event: String
        public init(seq: UInt64, event: String) {
            self.seq = seq
            self.event = event
        }
    }

    public var events: [Item]
    public var last: UInt64
    public init(events: [Item], last: UInt64) {
        self.events = events
        self.last = last
    }
}

/// The answer to `events put`: the event's id.
public struct PutEventResult: Sendable, Codable, Equatable {
    public var eventId: String
    public init(eventId: String) { self.eventId = eventId }
}

/// An empty request body.
public struct EmptyRequest: Sendable, Codable, Equatable {
    public init() {}
}
