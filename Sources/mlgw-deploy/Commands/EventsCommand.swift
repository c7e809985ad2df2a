import ArgumentParser
import EnvironmentAPI
import Events
import Foundation
import Providers

/// `events put|tail STACK`: the environment's event bus from the command line.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Send events to the running environment's bus, or follow it.",
                                                    subcommands: [Put.self, Tail.self])

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put one event on the bus (as PutEvents); prints its id.")

        @OptionGroup var options: StackOptions

        @Option(help: "The event's source, as mlgw.example.")
        var source: String

        @Option(name: .customLong("detail-type"), help: "The event's detail type.")
        var detailType: String

        @Option(help: "The detail: a JSON object.")
        var detail: String = "{}"

        @Option(name: .customLong("resource"), help: "A resource ARN the event is about (repeatable).")
        var resources: [String] = []

        func validate() throws {
            guard !source.isEmpty, !detailType.isEmpty else { throw ValidationError("--source and --detail-type must not be empty") }
            guard let d = try? JSONParser.parse(detail), case .object = d else { throw ValidationError("--detail must be a JSON object, as '{\"state\": \"ok\"}'") }
        }

        func run() async throws {
            let deployed = try StackLoading.deployed(options)
            try await EventsCommand.requireRunning(deployed, env: options.env)
            let result = try await deployed.provider.putEvent(EventEntry(source: source, detailType: detailType, detail: detail, resources: resources))
            print(result.eventId)
        }
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Follow the bus: print each event (one JSON line) as it arrives.",
            discussion: "With --pattern, only events the pattern matches (EventBridge's pattern language). Stops on Ctrl-C, after --count events, or after --timeout.")

        @OptionGroup var options: StackOptions

        @Option(help: "An event pattern (JSON): only events it matches are printed.")
        var pattern: String?

        @Option(help: "Stop after this many events.")
        var count: Int?

        @Option(help: "Stop after this many seconds.")
        var timeout: Double?

        @Flag(name: .customLong("from-start"), help: "Begin with the recent events the bus remembers (up to 1000), not only new ones.")
        var fromStart = false

        func validate() throws {
            if let pattern {
                do { _ = try EventPattern.parse(text: pattern) } catch { throw ValidationError("--pattern: \(error.message)") }
            }
            if let count, count < 1 { throw ValidationError("--count must be at least 1") }
            if let timeout, !(timeout > 0 && timeout <= 86_400) { throw ValidationError("--timeout must be above 0 and at most 86400 seconds") }
        }

        func run() async throws {
            let deployed = try StackLoading.deployed(options)
            try await EventsCommand.requireRunning(deployed, env: options.env)
            let matcher = try pattern.map { try EventPattern.parse(text: $0) }
            var after: UInt64 = fromStart ? 0 : try await deployed.provider.recentEvents(after: UInt64.max).last
            var printed = 0
            let deadline = timeout.map { Date().addingTimeInterval($0) }
            while deadline.map({ Date() < $0 }) ?? true {
                let batch = try await deployed.provider.recentEvents(after: after)
                for item in batch.events {
                    after = max(after, item.seq)
                    if let matcher {
                        guard let event = try? JSONParser.parse(item.event), matcher.matches(event) else { continue }
                    }
                    print(item.event)
                    fflush(nil)
                    printed += 1
                    if let count, printed >= count { return }
                }
                after = max(after, batch.last)
                try await Task.sleep(nanoseconds: 100_000_000)
            }
        }
    }

    static func requireRunning(_ deployed: DeployedStack, env: String) async throws {
        guard await deployed.provider.snapshot() != nil else {
            Console.err("error: environment '\(env)' of stack '\(deployed.name)' is not running\n  hint: apply the stack first")
            throw ExitCode(1)
        }
    }
}

/// `clock STACK show|advance DURATION`: the environment's clock.
struct ClockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clock",
        abstract: "Show the running environment's clock, or move it forward.",
        discussion: """
        'clock STACK advance 24h' moves the environment's time forward (s, m, h, d): every schedule firing in between \
        happens, in order, each event with its own time, and the command returns once their deliveries have ended \
        (or wait for a retry). Time never moves back; the moved clock is shown in 'status'. It moves retries, \
        quota periods and TTL expiry too (see docs/kinds/event-rules.md).
        """)

    @OptionGroup var options: StackOptions

    @Argument(help: "show, or advance DURATION (as 90m, 24h, 30d).")
    var words: [String] = []

    func run() async throws {
        var options = self.options
        var words = self.words
        if options.stackName != nil, let first = options.stack {
            words.insert(first, at: 0)
            options.stack = nil
        }
        let deployed = try StackLoading.deployed(options)
        try await EventsCommand.requireRunning(deployed, env: options.env)
        switch words.first ?? "show" {
        case "show":
            show(try await deployed.provider.clock(), fired: nil)
        case "advance":
            guard words.count == 2, let seconds = Self.duration(words[1]) else {
                throw ValidationError("give how far to move: clock STACK advance 24h (s, m, h or d)")
            }
            let started = Date()
            let status = try await deployed.provider.advanceClock(by: seconds)
            show(status, fired: status.fired)
            Console.err(String(format: "moved %@ in %.2f s", words[1], Date().timeIntervalSince(started)))
        default:
            throw ValidationError("unknown clock action '\(words[0])': use show or advance DURATION")
        }
    }

    func show(_ c: ClockStatus, fired: Int?) {
        let now = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: c.now))
        var line = "environment time \(now)"
        line += c.ahead > 0 ? String(format: " (%.0f s ahead of the wall clock)", c.ahead) : " (the wall clock)"
        if let fired { line += "; \(fired) schedule firing\(fired == 1 ? "" : "s") on the way" }
        print(line)
    }

    /// `90s`, `30m`, `24h`, `7d`, or seconds.
    static func duration(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]
        var number = Substring(text)
        var unit = 1.0
        if let last = text.last, let u = units[last] {
            unit = u
            number = number.dropLast()
        }
        guard let v = Double(number), v.isFinite, v > 0 else { return nil }
        let s = v * unit
        return s <= 3_650 * 86_400 ? s : nil
    }
}
