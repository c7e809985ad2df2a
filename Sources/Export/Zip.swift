import Foundation

/// A ZIP archive of files stored without compression: what `export --package` writes for each
/// function's code (Lambda reads stored entries). Entries are sorted and dated 1980-01-01, so the
/// same code gives the same bytes (and the same S3 object).
public enum StoredZip {
    public struct Entry {
        public var path: String
        public var bytes: [UInt8]
        public init(path: String, bytes: [UInt8]) {
            self.path = path
            self.bytes = bytes
        }
    }

    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    public static func archive(_ entries: [Entry]) -> [UInt8] {
        var out: [UInt8] = [], central: [UInt8] = []
        func u16(_ v: Int, _ into: inout [UInt8]) { into += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        func u32(_ v: UInt32, _ into: inout [UInt8]) { into += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)] }
        let date = (0 << 9) | (1 << 5) | 1   // 1980-01-01
        let sorted = entries.sorted { $0.path < $1.path }
        for e in sorted {
            let name = Array(e.path.utf8), crc = crc32(e.bytes), size = UInt32(e.bytes.count), offset = UInt32(out.count)
            u32(0x0403_4B50, &out); u16(20, &out); u16(0x0800, &out); u16(0, &out); u16(0, &out); u16(date, &out)
            u32(crc, &out); u32(size, &out); u32(size, &out); u16(name.count, &out); u16(0, &out)
            out += name
            out += e.bytes
            u32(0x0201_4B50, &central); u16(0x031E, &central); u16(20, &central); u16(0x0800, &central); u16(0, &central); u16(0, &central); u16(date, &central)
            u32(crc, &central); u32(size, &central); u32(size, &central); u16(name.count, &central); u16(0, &central); u16(0, &central)
            u16(0, &central); u16(0, &central); u32(0o100644 << 16, &central); u32(offset, &central)
            central += name
        }
        let centralOffset = UInt32(out.count)
        out += central
        u32(0x0605_4B50, &out); u16(0, &out); u16(0, &out); u16(sorted.count, &out); u16(sorted.count, &out)
        u32(UInt32(central.count), &out); u32(centralOffset, &out); u16(0, &out)
        return out
    }

    /// Every regular file under `folder` (hidden files, `__pycache__` and `.pyc` left out).
    public static func files(under folder: String) -> [Entry] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        var entries: [Entry] = []
        while let relative = walker.nextObject() as? String {
            let parts = relative.split(separator: "/")
            if parts.contains(where: { $0.hasPrefix(".") || $0 == "__pycache__" }) || relative.hasSuffix(".pyc") { continue }
            var isDirectory: ObjCBool = false
            let full = folder + "/" + relative
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let data = FileManager.default.contents(atPath: full) else { continue }
            entries.append(Entry(path: relative, bytes: [UInt8](data)))
        }
        return entries
    }
}
