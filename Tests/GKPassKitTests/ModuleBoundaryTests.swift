import Foundation
import Testing

/// The module rules of design.md §2 and issue 17, checked on the sources themselves: imports only go downward (the
/// sandbox uses GateKeeper and nothing else of ours), no type name is declared in two modules, and none is named
/// like a module or like a standard library or Foundation type we use.
@Suite("Module boundaries")
struct ModuleBoundaryTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    /// Which of our modules each module may import. Modules not listed here fail the test: a new one must be placed.
    static let allowedImports: [String: Set<String>] = [
        "CLoader": [], "CProcess": [], "GKText": [],
        "GateKeeper": ["GKText"],
        "Passport": ["CLoader", "GKText"],
        "TicketStore": ["CLoader", "GKText"],
        "GKPassKit": ["GateKeeper", "Passport", "TicketStore", "GKText", "CProcess", "CLoader"],
        "gkpass": ["GKPassKit", "GateKeeper", "Passport", "TicketStore", "GKText", "CProcess", "CLoader"],
        // The sandbox must not share the client's assumptions: GateKeeper only, never GKText (it keeps its own
        // hex, percent-encoding and dates), Passport or TicketStore.
        "GKPassSandbox": ["GateKeeper"],
        "gkpass-sandbox": ["GKPassSandbox", "GateKeeper"],
    ]

    /// Type names that may be declared in more than one module, each with the reason. Empty: the sandbox's own
    /// copies of client code have names of their own (FormEncoding, its HTTP date formatter).
    static let sharedNames: [String: String] = [:]

    /// Names of types in Swift, Synchronization, Foundation and Glibc that a type of ours would shadow in any file
    /// that imports both. Not the whole standard library (that list is in the report of issue 17): the ones a
    /// module of this shape is tempted to declare.
    static let libraryNames: Set<String> = [
        "Thread", "Mutex", "Atomic", "Lock", "NSLock", "Process", "Pipe", "FileHandle", "Data", "Date", "URL", "URLRequest",
        "Duration", "Clock", "ContinuousClock", "SuspendingClock", "Task", "Result", "Error", "Encoding", "Character",
        "Hasher", "Range", "Calendar", "TimeZone", "Locale", "JSONEncoder", "JSONDecoder", "Decimal", "UUID", "Timer",
        "RunLoop", "Bundle", "Notification", "OperationQueue", "DispatchQueue", "Host", "Port", "Stream", "InputStream",
        "OutputStream", "FileManager", "CharacterSet", "Scanner", "Regex", "AttributedString", "Logger", "Signal",
    ]
    /// Library names we declare anyway, each with the reason; the entry goes when the name does.
    static let libraryNamesAllowed: [String: String] = [:]

    /// Every Swift file of each module under Sources/.
    static func modules() throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        for module in try FileManager.default.contentsOfDirectory(atPath: sources.path) where !module.hasPrefix(".") {
            let directory = sources.appendingPathComponent(module)
            guard let walker = FileManager.default.enumerator(atPath: directory.path) else { continue }
            var texts: [String] = []
            while let path = walker.nextObject() as? String {
                guard path.hasSuffix(".swift") else { continue }
                texts.append(try String(contentsOf: directory.appendingPathComponent(path), encoding: .utf8))
            }
            out[module] = texts
        }
        return out
    }

    /// Top-level declarations start in column 0 (nested ones are indented; doc comments start with `///`).
    static var declaration: Regex<(Substring, Substring)> {
        /^(?:@\w+(?:\([^)\n]*\))?\s+)*(?:(?:public|package|internal|fileprivate|private|open|final|indirect|nonisolated)\s+)*(?:struct|enum|class|actor|protocol|typealias)\s+(\w+)/
            .anchorsMatchLineEndings()
    }
    static var importLine: Regex<(Substring, Substring)> {
        /^(?:@\w+\s+)*(?:(?:public|package|internal|fileprivate|private)\s+)?import\s+(?:(?:struct|class|enum|protocol|typealias|func|var|let)\s+)?(\w+)/
            .anchorsMatchLineEndings()
    }

    static func names(in text: String) -> [String] { text.matches(of: declaration).map { String($0.output.1) } }
    static func imports(in text: String) -> [String] { text.matches(of: importLine).map { String($0.output.1) } }

    @Test("the scanner finds top-level declarations and imports, and only those")
    func scanner() {
        let text = """
            import Foundation
            public import GateKeeper
            @preconcurrency internal import Glibc
            /// struct NotThis
            public final class Kept: Sendable {
                struct Nested {}
            }
            @usableFromInline package enum Second {}
            typealias Third = Int
            extension Kept {}
            let notImport = "import X"
            """
        #expect(Self.names(in: text) == ["Kept", "Second", "Third"])
        #expect(Self.imports(in: text) == ["Foundation", "GateKeeper", "Glibc"])
    }

    @Test("imports only go downward; the sandbox uses GateKeeper only; GKText imports nothing at all")
    func imports() throws {
        let modules = try Self.modules()
        #expect(modules["GateKeeper"]?.isEmpty == false && modules["GKText"]?.isEmpty == false, "Sources/ was found")
        for (module, texts) in modules {
            guard let allowed = Self.allowedImports[module] else {
                Issue.record("Sources/\(module) is not placed in the import rules (ModuleBoundaryTests.allowedImports)")
                continue
            }
            for imported in Set(texts.flatMap(Self.imports)) {
                if module == "GKText" {
                    Issue.record("GKText is a leaf with no dependencies, but imports \(imported)")
                } else if Self.allowedImports[imported] != nil && !allowed.contains(imported) {
                    Issue.record("\(module) imports \(imported), against design.md §2")
                }
            }
        }
    }

    @Test("no type name is declared in two modules, and none shadows a module or a library type")
    func names() throws {
        var declaredIn: [String: Set<String>] = [:]
        let sources = try Self.modules()
        for (module, texts) in sources {
            for name in texts.flatMap(Self.names) { declaredIn[name, default: []].insert(module) }
        }
        #expect(declaredIn["TicketSet"] == ["GKPassKit"] && declaredIn["Hex"] == ["GKText"], "the scan sees the sources")
        for (name, modules) in declaredIn.sorted(by: { $0.key < $1.key }) where modules.count > 1 && Self.sharedNames[name] == nil {
            Issue.record("\(name) is declared in \(modules.sorted().joined(separator: " and ")): rename one (or list it in sharedNames with the reason)")
        }
        for (name, modules) in declaredIn where Self.libraryNames.contains(name) && Self.libraryNamesAllowed[name] == nil {
            Issue.record("\(name) in \(modules.sorted().joined(separator: ", ")) shadows the library type of that name")
        }
        for (name, modules) in declaredIn where Self.allowedImports[name] != nil || sources[name] != nil {
            Issue.record("\(name) in \(modules.sorted().joined(separator: ", ")) is named like a module: `\(name).X` would no longer reach that module")
        }
        for name in Self.libraryNamesAllowed.keys { #expect(declaredIn[name] != nil, "\(name) is gone: drop its entry in libraryNamesAllowed") }
        for name in Self.sharedNames.keys { #expect((declaredIn[name]?.count ?? 0) > 1, "\(name) is no longer shared: drop its entry") }
    }
}
