import EnvironmentAPI
import Foundation
import NIOCore
import NIOHTTP1

/// sagemaker-featurestore-runtime on the environment's AWS URL (rest-json), as boto3 calls it:
///
///     PUT    /FeatureGroup/{name}       PutRecord     {Record, TargetStores?, TtlDuration?}
///     GET    /FeatureGroup/{name}?...   GetRecord     RecordIdentifierValueAsString, FeatureName*, ExpirationTimeResponse
///     DELETE /FeatureGroup/{name}?...   DeleteRecord  RecordIdentifierValueAsString, EventTime, TargetStores*, DeletionMode
///     POST   /BatchGetRecord            BatchGetRecord {Identifiers, ExpirationTimeResponse?}
///
/// A group may be named by its ARN. Errors carry botocore's codes: ValidationError (400),
/// ResourceNotFound (404).
extension FrontDoorHandler {
    static let featureGroupPrefix = "/FeatureGroup/"
    static let batchGetPath = "/BatchGetRecord"

    struct PutRecordRequest: Decodable {
        struct TTL: Decodable { var Unit: String; var Value: Double }
        var Record: [FeatureValue]
        var TargetStores: [String]?
        var TtlDuration: TTL?
    }

    struct BatchGetRequest: Decodable {
        struct Identifier: Decodable {
            var FeatureGroupName: String
            var RecordIdentifiersValueAsString: [String]
            var FeatureNames: [String]?
        }
        var Identifiers: [Identifier]
        var ExpirationTimeResponse: String?
    }

    func featureStore(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, path: Substring, requestID: String) {
        let keepAlive = head.isKeepAlive
        do {
            let body = try featureStoreAnswer(head, path: path)
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/json")
            headers.add(name: "x-amzn-requestid", value: requestID)
            var b = context.channel.allocator.buffer(capacity: body.utf8.count)
            b.writeString(body)
            writeResponse(context, status: .ok, headers: headers, body: b, keepAlive: keepAlive)
        } catch let e as FeatureStoreError {
            let status: HTTPResponseStatus = e.kind == .notFound ? .notFound : e.kind == .validation ? .badRequest : .internalServerError
            awsError(context, status: status, type: e.kind.rawValue, message: e.message, requestID: requestID, keepAlive: keepAlive)
        } catch {
            awsError(context, status: .internalServerError, type: "InternalFailure", message: "\(error)", requestID: requestID, keepAlive: keepAlive)
        }
    }

    func featureStoreAnswer(_ head: HTTPRequestHead, path: Substring) throws -> String {
        let query = Self.queryItems(head.uri)
        if path == Self.batchGetPath {
            guard head.method == .POST else { throw FeatureStoreError.validation("BatchGetRecord takes POST") }
            let request: BatchGetRequest = try decodeBody()
            return try batchGet(request, store: services.features?.current)
        }
        let group = Self.groupName(path.dropFirst(Self.featureGroupPrefix.count).removingPercentEncoding)
        guard let store = services.features?.current, let g = store.group(group) else { throw FeatureStoreError.notFound(group) }
        switch head.method {
        case .PUT:
            let request: PutRecordRequest = try decodeBody()
            let targets = try Self.targets(request.TargetStores)
            var ttl: Double?
            if let t = request.TtlDuration { ttl = try Self.seconds(t.Unit, t.Value) }
            try store.putRecord(g.name, request.Record, targets: targets, ttl: ttl)
            return "{}"
        case .GET:
            guard let id = query.first(where: { $0.0 == "RecordIdentifierValueAsString" })?.1 else {
                throw FeatureStoreError.validation("1 validation error detected: RecordIdentifierValueAsString must not be null")
            }
            let names = query.filter { $0.0 == "FeatureName" }.map(\.1)
            try Self.checkNames(names, in: g)
            let expiration = try Self.expiration(query.first { $0.0 == "ExpirationTimeResponse" }?.1)
            guard let found = try store.read(g, id: id) else { return "{}" }
            var out = "{\"Record\":" + (names.isEmpty ? found.record : try Self.filtered(found.record, names))
            if expiration, let at = found.expiresAt { out += ",\"ExpiresAt\":\"\(FeatureRecords.iso8601(at))\"" }
            return out + "}"
        case .DELETE:
            guard let id = query.first(where: { $0.0 == "RecordIdentifierValueAsString" })?.1 else {
                throw FeatureStoreError.validation("1 validation error detected: RecordIdentifierValueAsString must not be null")
            }
            guard let eventTime = query.first(where: { $0.0 == "EventTime" })?.1 else {
                throw FeatureStoreError.validation("1 validation error detected: EventTime must not be null")
            }
            let mode = query.first { $0.0 == "DeletionMode" }?.1 ?? "SoftDelete"
            guard mode == "SoftDelete" || mode == "HardDelete" else {
                throw FeatureStoreError.validation("DeletionMode '\(mode)' is not SoftDelete or HardDelete")
            }
            let stores = query.filter { $0.0 == "TargetStores" }.map(\.1)
            try store.deleteRecord(g.name, id: id, eventTime: eventTime, hard: mode == "HardDelete", targets: try Self.targets(stores.isEmpty ? nil : stores))
            return "{}"
        default:
            throw FeatureStoreError.validation("\(head.method) is not an operation on /FeatureGroup")
        }
    }

    func batchGet(_ request: BatchGetRequest, store: FeatureStore?) throws -> String {
        guard (1...100).contains(request.Identifiers.count) else {
            throw FeatureStoreError.validation("Identifiers must hold 1 to 100 entries, found \(request.Identifiers.count)")
        }
        let expiration = try Self.expiration(request.ExpirationTimeResponse)
        var records: [String] = []
        var errors: [String] = []
        for identifier in request.Identifiers {
            guard (1...100).contains(identifier.RecordIdentifiersValueAsString.count) else {
                throw FeatureStoreError.validation("RecordIdentifiersValueAsString must hold 1 to 100 identifiers, found \(identifier.RecordIdentifiersValueAsString.count)")
            }
            var given = ""
            FeatureJSON.appendString(identifier.FeatureGroupName, to: &given)
            guard let store, let g = store.group(Self.groupName(Substring(identifier.FeatureGroupName))) else {
                for id in identifier.RecordIdentifiersValueAsString {
                    var idText = ""
                    FeatureJSON.appendString(id, to: &idText)
                    errors.append("{\"FeatureGroupName\":\(given),\"RecordIdentifierValueAsString\":\(idText),\"ErrorCode\":\"ResourceNotFound\","
                                  + "\"ErrorMessage\":\"Resource Not Found: Amazon SageMaker can't find a feature group with name \(identifier.FeatureGroupName)\"}")
                }
                continue
            }
            let names = identifier.FeatureNames ?? []
            try Self.checkNames(names, in: g)
            for found in try store.read(g, ids: identifier.RecordIdentifiersValueAsString) {
                var idText = ""
                FeatureJSON.appendString(found.id, to: &idText)
                var item = "{\"FeatureGroupName\":\(given),\"RecordIdentifierValueAsString\":\(idText),\"Record\":"
                item += names.isEmpty ? found.record : try Self.filtered(found.record, names)
                if expiration, let at = found.expiresAt { item += ",\"ExpiresAt\":\"\(FeatureRecords.iso8601(at))\"" }
                records.append(item + "}")
            }
        }
        return "{\"Records\":[" + records.joined(separator: ",") + "],\"Errors\":[" + errors.joined(separator: ",") + "],\"UnprocessedIdentifiers\":[]}"
    }

    func decodeBody<T: Decodable>() throws -> T {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(bodyLength)
        for part in body { bytes += part.readableBytesView }
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch DecodingError.keyNotFound(let key, _) {
            throw FeatureStoreError.validation("1 validation error detected: \(key.stringValue) must not be null")
        } catch {
            throw FeatureStoreError.validation("the request body is not the JSON this operation takes")
        }
    }

    /// A name or `arn:aws:sagemaker:REGION:ACCOUNT:feature-group/NAME`.
    static func groupName(_ text: Substring) -> String {
        if text.hasPrefix("arn:"), let slash = text.range(of: ":feature-group/") { return String(text[slash.upperBound...]) }
        return String(text)
    }

    static func targets(_ names: [String]?) throws -> Set<FeatureStore.Store>? {
        guard let names else { return nil }
        guard (1...2).contains(names.count) else { throw FeatureStoreError.validation("TargetStores must hold 1 or 2 stores") }
        return Set(try names.map { name in
            guard let s = FeatureStore.Store(rawValue: name) else { throw FeatureStoreError.validation("TargetStores: '\(name)' is not OnlineStore or OfflineStore") }
            return s
        })
    }

    static func seconds(_ unit: String, _ value: Double) throws -> Double {
        guard value.isFinite, value >= 1, value == value.rounded() else { throw FeatureStoreError.validation("TtlDuration.Value must be a whole number of at least 1") }
        let factor: Double
        switch unit {
        case "Seconds": factor = 1
        case "Minutes": factor = 60
        case "Hours": factor = 3600
        case "Days": factor = 86_400
        case "Weeks": factor = 604_800
        default: throw FeatureStoreError.validation("TtlDuration.Unit '\(unit)' is not Seconds, Minutes, Hours, Days or Weeks")
        }
        return value * factor
    }

    static func expiration(_ text: String?) throws -> Bool {
        switch text {
        case nil, "Disabled": return false
        case "Enabled": return true
        default: throw FeatureStoreError.validation("ExpirationTimeResponse '\(text!)' is not Enabled or Disabled")
        }
    }

    static func checkNames(_ names: [String], in g: FeatureGroupConfiguration) throws {
        for n in names where g.feature(n) == nil {
            throw FeatureStoreError.validation("feature group \(g.name) has no feature '\(n)'")
        }
    }

    /// The stored record with only `names`, in the stored order.
    static func filtered(_ record: String, _ names: [String]) throws -> String {
        let values = try JSONDecoder().decode([FeatureValue].self, from: Data(record.utf8))
        let wanted = Set(names)
        return FeatureJSON.record(values.filter { wanted.contains($0.FeatureName) })
    }

    /// `a=1&b=x%20y` as pairs, in order (list parameters repeat their key).
    static func queryItems(_ uri: String) -> [(String, String)] {
        guard let q = uri.firstIndex(of: "?") else { return [] }
        return uri[uri.index(after: q)...].split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = parts.count > 1 ? parts[1] : ""
            return (String(Substring(parts[0]).removingPercentEncoding), String(value.removingPercentEncoding))
        }
    }
}
