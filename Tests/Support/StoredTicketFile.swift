public import Foundation

/// Edits a ticket in gkpass's file store the way time would: tests that need an expired ticket write one instead
/// of sleeping until a short-lived one runs out.
public enum StoredTicketFile {
    /// Moves the expiry of the ticket item at `path` (`…/gkpass/items/ACCOUNT.ticket.json`) to `date`, in the item's
    /// metadata, the ticket document and the account's record, keeping the file private (0600) as the store demands.
    public static func expire(_ path: String, at date: Date = Date(timeIntervalSinceNow: -3600)) throws {
        let stamp = ISO8601DateFormatter().string(from: date)
        var item = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        var metadata = item["metadata"] as? [String: Any] ?? [:]
        if metadata["expires"] != nil { metadata["expires"] = stamp }
        item["metadata"] = metadata
        var document = try JSONSerialization.jsonObject(with: Data((item["secret"] as! String).utf8)) as! [String: Any]
        document["expires"] = stamp
        if let obtained = document["obtained"] as? String, let start = ISO8601DateFormatter().date(from: obtained), start > date {
            document["obtained"] = ISO8601DateFormatter().string(from: date.addingTimeInterval(-60))
        }
        item["secret"] = String(decoding: try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]), as: UTF8.self)
        try write(try JSONSerialization.data(withJSONObject: item, options: [.sortedKeys]), to: path)
        // The account's record (…/gkpass/accounts/ACCOUNT) carries the expiry for `list` on its second line.
        let name = URL(fileURLWithPath: path).lastPathComponent.replacingOccurrences(of: ".ticket.json", with: "")
        let record = URL(fileURLWithPath: path).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("accounts/" + name).path
        if let text = try? String(contentsOfFile: record, encoding: .utf8) {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasPrefix("expires ") ? "expires " + stamp : String($0) }
            try write(Data(lines.joined(separator: "\n").utf8), to: record)
        }
    }

    static func write(_ data: Data, to path: String) throws {
        let temporary = path + ".test-\(getpid())"
        try data.write(to: URL(fileURLWithPath: temporary))
        chmod(temporary, 0o600)
        guard rename(temporary, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }
}
