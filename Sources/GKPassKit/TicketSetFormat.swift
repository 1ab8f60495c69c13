public import TicketStore

/// Human-facing renderings of a ticket set's non-secret parts.
public enum TicketSetFormat {
    public static func expires(_ set: TicketSet) -> String { TicketSet.format(set.expires) }
}
