import NIOCore

/// AWS event-stream framing (application/vnd.amazon.eventstream), as
/// InvokeEndpointWithResponseStream answers: each message is a prelude (total length, headers
/// length, CRC32 of those 8 bytes, all big-endian), string headers, the payload, and a CRC32 of
/// everything before it.
enum EventStream {
    static func message(headers: [(String, String)], payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var headerBytes: [UInt8] = []
        for (name, value) in headers {
            headerBytes.append(UInt8(name.utf8.count))
            headerBytes += name.utf8
            headerBytes.append(7)  // string
            let v = Array(value.utf8)
            headerBytes.append(UInt8(v.count >> 8))
            headerBytes.append(UInt8(v.count & 0xff))
            headerBytes += v
        }
        let total = 12 + headerBytes.count + payload.readableBytes + 4
        var out = allocator.buffer(capacity: total)
        out.writeInteger(UInt32(total), endianness: .big)
        out.writeInteger(UInt32(headerBytes.count), endianness: .big)
        out.writeInteger(CRC32.checksum(out.readableBytesView), endianness: .big)
        out.writeBytes(headerBytes)
        var p = payload
        out.writeBuffer(&p)
        out.writeInteger(CRC32.checksum(out.readableBytesView), endianness: .big)
        return out
    }

    static func payloadPart(_ bytes: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        message(headers: [(":event-type", "PayloadPart"), (":content-type", "application/octet-stream"), (":message-type", "event")],
                payload: bytes, allocator: allocator)
    }

    static func exception(_ type: String, json: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        message(headers: [(":exception-type", type), (":content-type", "application/json"), (":message-type", "exception")],
                payload: ByteBuffer(string: json), allocator: allocator)
    }
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as event-stream framing uses it.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xff)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
