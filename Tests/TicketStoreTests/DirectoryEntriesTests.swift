import Foundation
import Testing
@testable import TicketStore

@Suite("Directory entries (readdir)")
struct DirectoryEntriesTests {
    @Test("a name is read up to its NUL, never past its record: a short record that ends where an unmapped page begins")
    func shortRecordAtPageEnd() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let base = try #require(mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        #expect(base != MAP_FAILED)
        defer { munmap(base, 2 * page) }
        #expect(mprotect(base + page, page, PROT_NONE) == 0)
        // A record as glibc lays it out for the name "a": the fixed fields, the name and its NUL, rounded up to 8.
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        let length = (nameOffset + 2 + 7) & ~7
        let entry = base + page - length
        entry.storeBytes(of: UInt16(length), toByteOffset: MemoryLayout<dirent>.offset(of: \dirent.d_reclen)!, as: UInt16.self)
        entry.storeBytes(of: UInt8(ascii: "a"), toByteOffset: nameOffset, as: UInt8.self)
        entry.storeBytes(of: UInt8(0), toByteOffset: nameOffset + 1, as: UInt8.self)
        // Copying the struct's 256-byte d_name (the code before) reads into the guard page: SIGSEGV.
        #expect(DirectoryEntries.name(of: entry.assumingMemoryBound(to: dirent.self)) == "a")
    }

    @Test("every name of a directory of 3,000 entries of every length, . and .. included")
    func manyNames() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gkpass-dirent-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var expected: Set<String> = [".", ".."]
        for index in 0..<3_000 {
            let name = "\(index)-" + String(repeating: "é", count: index % 120)
            #expect(FileManager.default.createFile(atPath: directory + "/" + name, contents: nil))
            expected.insert(name)
        }
        let names = try #require(DirectoryEntries.names(in: directory))
        #expect(names.count == expected.count && Set(names) == expected)
        #expect(DirectoryEntries.names(in: directory + "/missing") == nil)
    }
}
