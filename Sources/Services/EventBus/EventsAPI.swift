import EnvironmentAPI
import Events
import Foundation
import NIOCore
import NIOHTTP1

/// EventBridge's JSON 1.1 API on the environment's AWS URL (`X-Amz-Target: AWSEvents.OP`):
/// PutEvents onto the default bus, and TestEventPattern against the bus's own matcher.
extension FrontDoorHandler {
    /// EventBridge's limit on one entry: 256 KB, counted as AWS counts (source, detail type,
    /// detail, resources, and 14 bytes for a time).
    static let maxEventEntry = 262_144

    func events(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, operation: String, requestID: String) {
        let keepAlive = head.isKeepAlive
        var bytes: [UInt8] = []
        bytes.reserveCapacity(bodyLength)
        for b in body { bytes.append(contentsOf: b.readableBytesView) }
        let answer: Result<String, EventsAPIError>
        if bodyLength > Self.maxBody {
            answer = .failure(EventsAPIError(type: "ValidationException", message: "Request size \(bodyLength) exceeds the limit"))
        } else {
            answer = EventsAPI.answer(operation: operation, body: bytes, bus: services.events!)
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/x-amz-json-1.1")
        headers.add(name: "x-amzn-requestid", value: requestID)
        switch answer {
        case .success(let text):
            writeResponse(context, status: .ok, headers: headers, body: ByteBuffer(string: text), keepAlive: keepAlive)
        case .failure(let e):
            // JSON 1.1 clients read the code from `__type` only.
            let body = JSONValue.object([.init("__type", .string(e.type)), .init("message", .string(e.message))]).text
            writeResponse(context, status: e.status, headers: headers, body: ByteBuffer(string: body), keepAlive: keepAlive)
        }
    }
}

/// EventBridge's answer for one bad entry (the others are still accepted).
struct EntryError: Error {
    var code: String
    var message: String
}

struct EventsAPIError: Error {
    var type: String
    var message: String
    var status: HTTPResponseStatus = .badRequest
}

enum EventsAPI {
    static func answer(operation: String, body: [UInt8], bus: EventBusService) -> Result<String, EventsAPIError> {
        let request: JSONValue
        do {
            request = try body.withUnsafeBufferPointer { b throws(JSONParseError) in try JSONParser.parse(b) }
        } catch {
            return .failure(EventsAPIError(type: "SerializationException", message: "The request body is not JSON: \(error.message)"))
        }
        switch operation {
        case "PutEvents": return putEvents(request, bus: bus)
        case "TestEventPattern": return testEventPattern(request)
        default:
            return .failure(EventsAPIError(type: "UnknownOperationException", message: "This environment's bus does not serve AWSEvents.\(operation)."))
        }
    }

    static func putEvents(_ request: JSONValue, bus: EventBusService) -> Result<String, EventsAPIError> {
        guard case .array(let entries)? = request["Entries"] else {
            return .failure(EventsAPIError(type: "ValidationException", message: "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null"))
        }
        guard (1...10).contains(entries.count) else {
            return .failure(EventsAPIError(type: "ValidationException",
                                           message: "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length \(entries.isEmpty ? "greater than or equal to 1" : "less than or equal to 10")"))
        }
        var results: [Result<JSONValue, EntryError>] = []
        let now = bus.clock.now().timeIntervalSince1970
        for entry in entries { results.append(envelope(entry, now: now, bus: bus)) }
        let accepted = results.compactMap { try? $0.get() }
        var seqs = bus.accept(accepted).makeIterator()
        var failed = 0
        var out: [JSONValue] = []
        for r in results {
            switch r {
            case .success(let e):
                _ = seqs.next()
                out.append(.object([.init("EventId", e["id"] ?? .null)]))
            case .failure(let e):
                failed += 1
                out.append(.object([.init("ErrorCode", .string(e.code)), .init("ErrorMessage", .string(e.message))]))
            }
        }
        return .success(JSONValue.object([.init("FailedEntryCount", .number(failed)), .init("Entries", .array(out))]).text)
    }

    /// One entry as the envelope targets receive, or EventBridge's per-entry error.
    static func envelope(_ entry: JSONValue, now: Double, bus: EventBusService) -> Result<JSONValue, EntryError> {
        func invalid(_ field: String, _ reason: String) -> Result<JSONValue, EntryError> {
            .failure(EntryError(code: "InvalidArgument", message: "Parameter \(field) is not valid. Reason: \(reason)"))
        }
        guard case .object = entry else { return invalid("Entry", "an entry is an object") }
        guard let source = entry["Source"]?.stringValue, !source.isEmpty else { return invalid("Source", "Source is a required argument.") }
        guard let detailType = entry["DetailType"]?.stringValue, !detailType.isEmpty else { return invalid("DetailType", "DetailType is a required argument.") }
        guard let detailText = entry["Detail"]?.stringValue else { return invalid("Detail", "Detail is a required argument.") }
        if let bus = entry["EventBusName"]?.stringValue, bus != "default", bus != "arn:aws:events:\(AWSIdentity.region):\(AWSIdentity.account):event-bus/default" {
            return .failure(EntryError(code: "InvalidArgument", message: "Event bus \(bus) does not exist: this environment has the default bus only."))
        }
        var resources: [String] = []
        if let r = entry["Resources"] {
            guard case .array(let items) = r, let strings = Optional(items.compactMap(\.stringValue)), strings.count == items.count else {
                return invalid("Resources", "Resources is a list of strings.")
            }
            resources = strings
        }
        let size = source.utf8.count + detailType.utf8.count + detailText.utf8.count + resources.reduce(0) { $0 + $1.utf8.count } + 14
        guard size <= FrontDoorHandler.maxEventEntry else {
            return .failure(EntryError(code: "InvalidArgument", message: "Entry size \(size) bytes exceeds the limit of \(FrontDoorHandler.maxEventEntry) bytes."))
        }
        guard let detail = try? JSONParser.parse(detailText), case .object = detail else { return .failure(EntryError(code: "MalformedDetail", message: "Detail is malformed.")) }
        var time = now
        switch entry["Time"] {
        case .number(let t, _)?: time = t
        case .string(let s)?:
            guard let d = ISO8601DateFormatter().date(from: s) else { return invalid("Time", "Time is not a timestamp.") }
            time = d.timeIntervalSince1970
        default: break
        }
        guard time.isFinite, time > 0, time < 7_258_118_400 else { return invalid("Time", "Time is out of range.") }
        return .success(bus.envelope(source: source, detailType: detailType, detail: detail, resources: resources, time: time))
    }

    static let mandatoryEventFields = ["id", "account", "source", "time", "region", "detail-type"]

    static func testEventPattern(_ request: JSONValue) -> Result<String, EventsAPIError> {
        guard let patternText = request["EventPattern"]?.stringValue, let eventText = request["Event"]?.stringValue else {
            return .failure(EventsAPIError(type: "ValidationException", message: "EventPattern and Event are required."))
        }
        let pattern: EventPattern
        do { pattern = try EventPattern.parse(text: patternText) } catch {
            return .failure(EventsAPIError(type: "InvalidEventPatternException", message: error.message))
        }
        guard let event = try? JSONParser.parse(eventText), case .object = event,
              mandatoryEventFields.allSatisfy({ event[$0] != nil }) else {
            return .failure(EventsAPIError(type: "ValidationException", message: "Parameter Event is not valid."))
        }
        return .success(#"{"Result":\#(pattern.matches(event))}"#)
    }
}
