import Foundation
import NIOCore

/// JSON answers are encoded from values, never concatenated by hand: an escaping mistake cannot
/// make a body that a client fails to parse.
enum JSONBody {
    static func encode(_ value: some Encodable) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ByteBuffer(bytes: (try? encoder.encode(value)) ?? Data("{}".utf8))
    }

    static func string(_ value: some Encodable) -> String { String(buffer: encode(value)) }
}

/// The error shape botocore parses for JSON protocols (`x-amzn-ErrorType` carries the type too).
struct AWSErrorBody: Encodable {
    var type: String
    var message: String

    enum CodingKeys: String, CodingKey {
        case type = "__type"
        case message
    }
}

/// API Gateway's `{"message": ...}`.
struct GatewayMessage: Encodable {
    var message: String
}

/// A Lambda runtime's error as Lambda reports it.
struct LambdaErrorBody: Encodable {
    var errorType: String?
    var errorMessage: String
}
